import { formatMoney } from './money.ts';
import type { CreditNote, Invoice, PaymentRequest, StockLine } from './schemas.ts';
import { taxNote } from './tax.ts';

/**
 * The texts of the e-mails the order sends about its documents and its stock (the approval request
 * and the cancellation notice are in approval.ts and cancellation.ts). Pure: the caller sends them.
 */
export interface EmailText {
  subject: string;
  text: string;
}

/** The invoice to the customer: paid by card, or the due date and the seller's IBAN; a tax note when one applies. */
export function invoiceEmail(
  invoice: Pick<
    Invoice,
    | 'invoiceNumber'
    | 'orderId'
    | 'customerName'
    | 'totals'
    | 'currency'
    | 'paymentMethod'
    | 'dueDate'
    | 'seller'
    | 'taxTreatment'
  >,
): EmailText {
  const number = invoice.invoiceNumber;
  const note = taxNote(invoice.taxTreatment);
  return {
    subject: `Invoice ${number} for order ${invoice.orderId}`,
    text: [
      `Dear ${invoice.customerName},`,
      '',
      `thank you for your order ${invoice.orderId}. Your invoice ${number} over ${formatMoney(invoice.totals.total, invoice.currency)} is attached.`,
      invoice.paymentMethod === 'card'
        ? 'It has been paid by card.'
        : `Please pay by ${invoice.dueDate.slice(0, 10)} to IBAN ${invoice.seller.bank.iban}.`,
      ...(note ? ['', `${note}.`] : []),
      '',
      invoice.seller.legalName,
    ].join('\n'),
  };
}

/** Finance's own copy of an invoice (the customer never sees finance's address). */
export function invoiceFinanceCopy(
  invoice: Pick<
    Invoice,
    'invoiceNumber' | 'orderId' | 'customerId' | 'totals' | 'currency' | 'paymentMethod' | 'dueDate'
  >,
): EmailText {
  const number = invoice.invoiceNumber;
  return {
    subject: `Invoice ${number} for order ${invoice.orderId} (finance copy)`,
    text: [
      `Invoice ${number} for order ${invoice.orderId}, customer ${invoice.customerId}: ${formatMoney(invoice.totals.total, invoice.currency)},`,
      invoice.paymentMethod === 'card' ? 'paid by card.' : `on account, due ${invoice.dueDate.slice(0, 10)}.`,
    ].join(' '),
  };
}

type CreditNoteText = Pick<
  CreditNote,
  'creditNoteNumber' | 'invoiceNumber' | 'customerId' | 'customerName' | 'totals' | 'currency' | 'settlement' | 'seller'
> & { refundId?: string };

/** The credit note to the customer: refunded to the card, or deducted from the open balance. */
export function creditNoteEmail(note: CreditNoteText): EmailText {
  const number = note.creditNoteNumber;
  const total = formatMoney(note.totals.total, note.currency);
  const settled =
    note.settlement === 'refund'
      ? `${total} is refunded to the card you paid with.`
      : `${total} is deducted from your open balance.`;
  return {
    subject: `Credit note ${number} for invoice ${note.invoiceNumber}`,
    text: [
      `Dear ${note.customerName},`,
      '',
      `please find attached credit note ${number}, correcting invoice ${note.invoiceNumber}. ${settled}`,
      '',
      note.seller.legalName,
    ].join('\n'),
  };
}

/** Finance's own copy of a credit note, with how it was settled (and the refund's id). */
export function creditNoteFinanceCopy(note: CreditNoteText): EmailText {
  const number = note.creditNoteNumber;
  const total = formatMoney(note.totals.total, note.currency);
  return {
    subject: `Credit note ${number} for invoice ${note.invoiceNumber} (finance copy)`,
    text: `Credit note ${number} for invoice ${note.invoiceNumber}, customer ${note.customerId}: ${total} (${note.settlement}${note.refundId ? ` ${note.refundId}` : ''}).`,
  };
}

/** The receipt for the payment that paid an invoice in full. */
export function paymentReceiptEmail(
  invoice: Pick<Invoice, 'invoiceNumber' | 'customerName' | 'amountPaid' | 'currency' | 'seller'>,
  payment: Pick<PaymentRequest, 'reference' | 'receivedAt'>,
): EmailText {
  const number = invoice.invoiceNumber;
  return {
    subject: `Payment received: invoice ${number}`,
    text: [
      `Dear ${invoice.customerName},`,
      '',
      `we have received your payment for invoice ${number} (${formatMoney(invoice.amountPaid, invoice.currency)}, last payment ${payment.reference} on ${payment.receivedAt.slice(0, 10)}). The invoice is paid in full. Thank you.`,
      '',
      invoice.seller.legalName,
    ].join('\n'),
  };
}

/** A backorder expired: the lines no longer coming; the rest ships (`allocated`) or the order is cancelled. */
export function backorderCancelledEmail(
  orderId: string,
  cancelled: readonly StockLine[],
  allocated: boolean,
): EmailText {
  const list = cancelled.map((l) => `  ${l.quantity} x ${l.sku}`).join('\n');
  return {
    subject: `Order ${orderId}: items no longer available`,
    text: allocated
      ? `We could not get these items in time; they are cancelled and will not be charged:\n${list}\n\nThe rest of your order ships as planned.`
      : `We could not get the items of your order in time; the order is cancelled and nothing is charged:\n${list}`,
  };
}
