import { CreditNoteRefused, PaymentRefused } from './errors.ts';
import type {
  CreditedLine,
  CreditNote,
  CreditNoteLine,
  Customer,
  Invoice,
  InvoiceStatus,
  Order,
  PricedLine,
  SellerDetails,
  Totals,
} from './schemas.ts';

/** Net days of on-account terms when the customer's terms do not say. */
export const DEFAULT_NET_DAYS = 30;
const DAY_MS = 86_400_000;

/** Net days of the customer's payment terms (card terms have none: an on-account invoice then gets the default). */
export const netDaysOf = (paymentTerms: Customer['paymentTerms']): number =>
  paymentTerms.type === 'on_account' ? paymentTerms.netDays : DEFAULT_NET_DAYS;

/** Card: due (and paid) at issue; on account: the issue date plus the net days. */
export function dueDateFor(issuedAt: Date, paymentMethod: Invoice['paymentMethod'], netDays: number): Date {
  return paymentMethod === 'card' ? new Date(issuedAt) : new Date(issuedAt.getTime() + netDays * DAY_MS);
}

export interface TaxSummaryEntry {
  rateBasisPoints: number;
  net: number;
  tax: number;
}

/** A credit note's VAT per rate: the sum of what its lines take back of each invoice line's VAT (highest rate first). */
export function creditNoteTaxByRate(note: Pick<CreditNote, 'lines'>): TaxSummaryEntry[] {
  const byRate = new Map<number, TaxSummaryEntry>();
  for (const line of note.lines) {
    const entry = byRate.get(line.taxRateBasisPoints) ?? { rateBasisPoints: line.taxRateBasisPoints, net: 0, tax: 0 };
    entry.net += line.net;
    entry.tax += line.tax;
    byRate.set(line.taxRateBasisPoints, entry);
  }
  return [...byRate.values()].sort((a, b) => b.rateBasisPoints - a.rateBasisPoints);
}

/** The customer fields an invoice needs. */
export type InvoiceCustomer = Pick<
  Customer,
  'customerId' | 'name' | 'billingEmail' | 'paymentTerms' | 'taxProfile' | 'billingAddress'
>;

/**
 * The invoice as issued, before its number and without the shipment it is for: card invoices are
 * issued paid, on-account ones open. `order.lines`/`order.totals` are what the invoice charges (a
 * shipment's charge, see shipmentCharge).
 */
export function invoiceDraft(input: {
  order: Pick<Order, 'orderId' | 'currency' | 'shippingAddress' | 'payment'> & { lines: PricedLine[]; totals: Totals };
  customer: InvoiceCustomer;
  seller: SellerDetails;
  issuedAt: Date;
}): Omit<Invoice, 'invoiceNumber' | 'shipmentId'> {
  const { order, customer, seller, issuedAt } = input;
  const paymentMethod = order.payment.method;
  const vatId = customer.taxProfile.vatId;
  return {
    orderId: order.orderId,
    customerId: customer.customerId,
    customerName: customer.name,
    customerEmail: customer.billingEmail,
    ...(vatId ? { customerVatId: vatId } : {}),
    seller,
    issuedAt: issuedAt.toISOString(),
    dueDate: dueDateFor(issuedAt, paymentMethod, netDaysOf(customer.paymentTerms)).toISOString(),
    currency: order.currency,
    lines: order.lines,
    totals: order.totals,
    billingAddress: customer.billingAddress,
    paymentMethod,
    status: paymentMethod === 'card' ? 'paid' : 'open',
    amountPaid: paymentMethod === 'card' ? order.totals.total : 0,
    amountCredited: 0,
  };
}

/**
 * Sets the VAT of a credit note's lines (see creditNoteLines): per rate, the invoice's VAT at that
 * rate in proportion to the net credited before and after this note; within a rate, shared by net
 * with the remainder on the last line.
 */
function assignCreditedTax(
  invoice: Pick<Invoice, 'lines' | 'totals'>,
  credited: Readonly<Record<string, CreditedLine>>,
  lines: CreditNoteLine[],
): void {
  for (const rate of new Set(lines.map((line) => line.taxRateBasisPoints))) {
    const invoiceLines = invoice.lines.filter((line) => line.taxRateBasisPoints === rate);
    const invoiceNet = invoiceLines.reduce((sum, line) => sum + line.lineSubtotal, 0);
    const invoiceTax =
      invoice.totals.taxByRate?.find((entry) => entry.rateBasisPoints === rate)?.tax ??
      invoiceLines.reduce((sum, line) => sum + line.lineTax, 0);
    const before = invoiceLines.reduce((sum, line) => sum + (credited[line.sku]?.net ?? 0), 0);
    const atRate = lines.filter((line) => line.taxRateBasisPoints === rate);
    const noteNet = atRate.reduce((sum, line) => sum + line.net, 0);
    const share = (net: number) => (invoiceNet === 0 ? 0 : Math.round((invoiceTax * net) / invoiceNet));
    const noteTax = share(before + noteNet) - share(before);
    // Largest remainder: each line its floored share, the cents left over to the largest remainders
    // (first line first on a tie), so no line goes negative and the lines add up to the rate's VAT.
    const exact = atRate.map((line) => (noteNet === 0 ? 0 : noteTax * line.net));
    atRate.forEach((line, index) => {
      line.tax = noteNet === 0 ? 0 : Math.floor((exact[index] ?? 0) / noteNet);
    });
    let left = noteTax - atRate.reduce((sum, line) => sum + line.tax, 0);
    const byRemainder = atRate
      .map((_, index) => index)
      .sort((a, b) => ((exact[b] ?? 0) % noteNet || 0) - ((exact[a] ?? 0) % noteNet || 0) || a - b);
    for (const index of byRemainder) {
      if (left <= 0) break;
      const line = atRate[index];
      if (line) line.tax += 1;
      left -= 1;
    }
    // Only when nothing was credited at this rate (net 0) can tax be left: it stays on the last line.
    const last = atRate[atRate.length - 1];
    if (left !== 0 && last) last.tax += left;
  }
}

type Balance = Pick<Invoice, 'paymentMethod' | 'totals' | 'amountPaid' | 'amountCredited'>;

/** What the customer still owes on an invoice on account (a card invoice owes nothing). */
export const outstanding = (invoice: Balance): number =>
  invoice.paymentMethod === 'card' ? 0 : invoice.totals.total - invoice.amountPaid - invoice.amountCredited;

/**
 * The most a credit note may take back: the uncredited gross; on account no more than is still
 * owed (money paid on account is not given back by a credit note).
 */
export const creditableGross = (invoice: Balance): number =>
  invoice.paymentMethod === 'card' ? invoice.totals.total - invoice.amountCredited : outstanding(invoice);

/**
 * The lines and totals of a credit note: the requested quantities of the invoice's lines, or
 * (without lines) everything not credited yet. A line's last units take exactly what is left of its
 * net. VAT follows the invoice's rule (per rate, on the sum of the nets): after each credit note,
 * the VAT credited at a rate is the invoice's VAT at that rate times the share of its net credited so
 * far, rounded half up; a note takes the difference. So partial credit notes add up to the invoice's
 * VAT to the cent, whatever the order they come in.
 */
export function creditNoteLines(
  invoice: Pick<Invoice, 'lines' | 'creditedLines' | 'paymentMethod' | 'totals' | 'amountPaid' | 'amountCredited'>,
  requested?: readonly { sku: string; quantity: number }[],
): { lines: CreditNoteLine[]; totals: Totals } {
  const credited = invoice.creditedLines ?? {};
  const wanted = requested ?? invoice.lines.map((line) => ({ sku: line.sku, quantity: -1 }));
  const seen = new Set<string>();
  const lines: CreditNoteLine[] = [];
  for (const want of wanted) {
    const line = invoice.lines.find((l) => l.sku === want.sku);
    if (!line) throw new CreditNoteRefused(`SKU ${want.sku} is not on the invoice`);
    if (seen.has(want.sku)) throw new CreditNoteRefused(`SKU ${want.sku} appears more than once`);
    seen.add(want.sku);
    const done = credited[line.sku] ?? { quantity: 0, net: 0, tax: 0 };
    const left = line.quantity - done.quantity;
    const quantity = want.quantity === -1 ? left : want.quantity;
    if (quantity === 0) continue;
    if (quantity > left)
      throw new CreditNoteRefused(`SKU ${line.sku}: ${quantity} requested, ${left} of ${line.quantity} left to credit`);
    const last = quantity === left;
    const net = last ? line.lineSubtotal - done.net : Math.round((line.lineSubtotal * quantity) / line.quantity);
    lines.push({ sku: line.sku, name: line.name, quantity, taxRateBasisPoints: line.taxRateBasisPoints, net, tax: 0 });
  }
  assignCreditedTax(invoice, credited, lines);
  const subtotal = lines.reduce((sum, l) => sum + l.net, 0);
  const tax = lines.reduce((sum, l) => sum + l.tax, 0);
  const totals = { subtotal, discount: 0, tax, total: subtotal + tax, taxByRate: creditNoteTaxByRate({ lines }) };
  if (totals.total <= 0) throw new CreditNoteRefused('Nothing left to credit on this invoice');
  const limit = creditableGross(invoice);
  if (totals.total > limit) {
    throw new CreditNoteRefused(
      invoice.paymentMethod === 'card'
        ? `The credit note (${totals.total}) exceeds the invoice's uncredited amount (${limit})`
        : `The credit note (${totals.total}) exceeds the invoice's outstanding amount (${limit})`,
    );
  }
  return { lines, totals };
}

/** The invoice after a credit note: what it took back per line, its amount and the status that follows. */
export function applyCredit(
  invoice: Pick<Invoice, 'creditedLines' | 'amountCredited' | 'amountPaid' | 'totals' | 'paymentMethod' | 'status'>,
  credit: { lines: readonly CreditNoteLine[]; totals: Totals },
): { creditedLines: Record<string, CreditedLine>; amountCredited: number; status: InvoiceStatus } {
  const creditedLines = { ...(invoice.creditedLines ?? {}) };
  for (const line of credit.lines) {
    const done = creditedLines[line.sku] ?? { quantity: 0, net: 0, tax: 0 };
    creditedLines[line.sku] = {
      quantity: done.quantity + line.quantity,
      net: done.net + line.net,
      tax: done.tax + line.tax,
    };
  }
  const amountCredited = invoice.amountCredited + credit.totals.total;
  return { creditedLines, amountCredited, status: settledStatus({ ...invoice, amountCredited }) };
}

/** A payment on account: refused above what is owed; paid in full turns the invoice `paid`. */
export function applyPayment(
  invoice: Pick<Invoice, 'invoiceNumber' | 'paymentMethod' | 'status' | 'totals' | 'amountPaid' | 'amountCredited'>,
  amount: number,
): { amountPaid: number; status: InvoiceStatus; paidInFull: boolean } {
  if (invoice.paymentMethod !== 'on_account')
    throw new PaymentRefused(`Invoice ${invoice.invoiceNumber} was paid by card`, 'not_on_account');
  if (invoice.status !== 'open' && invoice.status !== 'overdue')
    throw new PaymentRefused(`Invoice ${invoice.invoiceNumber} is ${invoice.status}`, 'not_open');
  const owed = outstanding(invoice);
  if (amount > owed)
    throw new PaymentRefused(
      `The payment (${amount}) exceeds the outstanding amount of invoice ${invoice.invoiceNumber} (${owed})`,
      'exceeds_outstanding',
    );
  const amountPaid = invoice.amountPaid + amount;
  const status = settledStatus({ ...invoice, amountPaid });
  return { amountPaid, status, paidInFull: amount === owed };
}

/** Credited in full: `credited`; nothing left owed: `paid`; otherwise as it was. */
function settledStatus(
  invoice: Pick<Invoice, 'status' | 'totals' | 'amountPaid' | 'amountCredited' | 'paymentMethod'>,
): InvoiceStatus {
  if (invoice.amountCredited >= invoice.totals.total) return 'credited';
  if (invoice.paymentMethod === 'card' || invoice.amountPaid + invoice.amountCredited >= invoice.totals.total)
    return 'paid';
  return invoice.status;
}

/** An open invoice whose due date has passed (the overdue sweep's rule). */
export const isOverdue = (invoice: Pick<Invoice, 'status' | 'dueDate'>, now: Date): boolean =>
  invoice.status === 'open' && Date.parse(invoice.dueDate) < now.getTime();
