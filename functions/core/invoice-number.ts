import { InvoiceNumbersExhausted } from './errors.ts';

const MAX_SEQUENCE = 999_999;

/** The gap-free number series: invoices and credit notes, each numbered on its own. */
export type DocumentSeries = 'INV' | 'CN';

/** `<series>-<year>-<6 digits>`: each series restarts every year and has no gaps. */
export function formatDocumentNumber(series: DocumentSeries, year: number, sequence: number): string {
  if (!Number.isInteger(sequence) || sequence < 1) throw new RangeError(`invalid ${series} sequence ${sequence}`);
  if (sequence > MAX_SEQUENCE) throw new InvoiceNumbersExhausted(`No ${series} numbers left for ${year}`);
  return `${series}-${year}-${String(sequence).padStart(6, '0')}`;
}

/** `INV-<year>-<6 digits>`. */
export const formatInvoiceNumber = (year: number, sequence: number): string =>
  formatDocumentNumber('INV', year, sequence);

export function parseInvoiceNumber(
  value: string,
  series: DocumentSeries = 'INV',
): { year: number; sequence: number } | undefined {
  const match = new RegExp(`^${series}-(\\d{4})-(\\d{6})$`).exec(value);
  if (!match) return undefined;
  return { year: Number(match[1]), sequence: Number(match[2]) };
}

/** Invoices are numbered in the year they are issued, in UTC. */
export function invoiceYear(issuedAt: Date): number {
  return issuedAt.getUTCFullYear();
}
