import { InvoiceNumbersExhausted } from './errors.ts';

const MAX_SEQUENCE = 999_999;

/** `INV-<year>-<6 digits>`: the sequence restarts every year and has no gaps. */
export function formatInvoiceNumber(year: number, sequence: number): string {
  if (!Number.isInteger(sequence) || sequence < 1) throw new RangeError(`invalid invoice sequence ${sequence}`);
  if (sequence > MAX_SEQUENCE) throw new InvoiceNumbersExhausted(`No invoice numbers left for ${year}`);
  return `INV-${year}-${String(sequence).padStart(6, '0')}`;
}

export function parseInvoiceNumber(value: string): { year: number; sequence: number } | undefined {
  const match = /^INV-(\d{4})-(\d{6})$/.exec(value);
  if (!match) return undefined;
  return { year: Number(match[1]), sequence: Number(match[2]) };
}

/** Invoices are numbered in the year they are issued, in UTC. */
export function invoiceYear(issuedAt: Date): number {
  return issuedAt.getUTCFullYear();
}
