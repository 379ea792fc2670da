import { EMAIL_ORDER_FORMAT, type EmailProblem, problemLine } from './email-order-format.ts';
import { escapeHtml } from './feedback-page.ts';
import { formatMoney } from './money.ts';
import {
  type CreditNote,
  hasControlCharacters,
  type Invoice,
  type OrderEntry,
  type PaymentRequest,
  type StockLine,
} from './schemas.ts';
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

// ---------------------------------------------------------------------------------------------
// Orders by e-mail: the replies to the sender (functions/lib/inbound-email.ts)
// ---------------------------------------------------------------------------------------------

/** The order e-mail a reply is about: its subject (as the sender wrote it) and when it was sent. */
export interface InboundEmailRef {
  subject?: string;
  /** ISO date of the e-mail, if it said. */
  date?: string;
}

/** Problems listed in one error reply; more are summarised (a random text of thousands of lines). */
export const MAX_LISTED_PROBLEMS = 100;

const about = (message: InboundEmailRef) => {
  const subject = message.subject?.trim() ? `"${message.subject.trim()}"` : '(no subject)';
  return `your e-mail ${subject}${message.date ? ` of ${message.date.slice(0, 10)}` : ''}`;
};
/** The sender's subject behind our own words: one line, no control characters, not too long. */
const replySubject = (prefix: string, message: InboundEmailRef) => {
  const original = [...(message.subject ?? '')]
    .map((c) => (hasControlCharacters(c) ? ' ' : c))
    .join('')
    .trim();
  return original ? `${prefix}: ${original.length > 120 ? `${original.slice(0, 120)}…` : original}` : prefix;
};

/** The order is captured: its id, and what was read from the e-mail. */
export function emailOrderReceived(
  message: InboundEmailRef,
  order: { orderId: string; customerName: string; entry: OrderEntry; currency: string },
): EmailText {
  const { entry } = order;
  const lines = entry.lines.map(
    (l) =>
      `  ${l.quantity} x ${l.sku}${l.unitPrice === undefined ? '' : ` at ${formatMoney(l.unitPrice, order.currency)}`}`,
  );
  return {
    subject: replySubject(`Order ${order.orderId} received`, message),
    text: [
      `Dear ${order.customerName},`,
      '',
      `thank you: we have received ${about(message)} and placed order ${order.orderId}.`,
      ...(entry.externalReference ? [`Your reference: ${entry.externalReference}`] : []),
      '',
      'Items:',
      ...lines,
      '',
      `Payment: ${entry.payment ? entry.payment.replace('_', ' ') : 'as agreed on your account'}`,
      `Delivery: ${entry.fulfilmentPolicy === 'ship_available' ? 'what is in stock ships now, the rest when it arrives' : 'the whole order at once'}`,
      '',
      'Prices are those of our price list; we check the order and e-mail the invoice when it ships.',
      `Please quote ${order.orderId} in any question about this order.`,
    ].join('\n'),
  };
}

/** The order was not placed: every problem, by line, and how an order e-mail is written. */
export function emailOrderRefused(message: InboundEmailRef, problems: readonly EmailProblem[]): EmailText {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => `  ${problemLine(p)}`);
  const more = problems.length - listed.length;
  return {
    subject: replySubject('Order not placed', message),
    text: [
      `We could not place an order from ${about(message)}; nothing was ordered.`,
      '',
      problems.length === 1 ? 'The problem:' : `The problems (${problems.length}):`,
      ...listed,
      ...(more > 0 ? [`  … and ${more} more`] : []),
      '',
      'Please correct the e-mail and send it again as a new message. How an order e-mail is written:',
      '',
      EMAIL_ORDER_FORMAT,
    ].join('\n'),
  };
}

/** The sender's address is no customer's ordering address: nothing was ordered. */
export function emailOrderUnknownSender(message: InboundEmailRef): EmailText {
  return {
    subject: replySubject('Order not placed', message),
    text: [
      `We could not place an order from ${about(message)}: the address it was sent from is not a known ordering address of any customer account. Nothing was ordered.`,
      '',
      "Please send orders from your account's registered ordering address, or ask your account manager to register this one.",
    ].join('\n'),
  };
}

/** The e-mail's Message-ID was used before for an e-mail with another order in it. */
export function emailOrderKeyReused(message: InboundEmailRef, messageId: string): EmailText {
  return {
    subject: replySubject('Order not placed', message),
    text: [
      `We could not place an order from ${about(message)}: its message id ${messageId} was already used for another order. Nothing was ordered.`,
      '',
      'Each order needs an e-mail of its own: please send the order as a new message (not a re-sent or edited copy of an earlier one).',
    ].join('\n'),
  };
}

// ---------------------------------------------------------------------------------------------
// The customer satisfaction survey after delivery (functions/request-feedback)
// ---------------------------------------------------------------------------------------------

/**
 * One question after delivery: how likely the customer is to recommend us, 0-10, one link per score.
 * A link opens a page with that score chosen and a submit button (a GET records nothing: mail
 * scanners open links too). `links[score]` is the link for that score; `expiresAt` when they stop working.
 */
export function feedbackRequestEmail(request: {
  customerName: string;
  orderId: string;
  links: readonly string[];
  expiresAt: Date;
  sellerName: string;
}): EmailText & { html: string } {
  const { customerName, orderId, links, sellerName } = request;
  const until = request.expiresAt.toISOString().slice(0, 10);
  const question = 'How likely are you to recommend us to a friend or colleague?';
  const text = [
    `Dear ${customerName},`,
    '',
    `your order ${orderId} has been delivered. One question, one click:`,
    '',
    `${question} (0 = not at all likely, 10 = extremely likely)`,
    '',
    ...links.map((link, score) => `  ${String(score).padStart(2)}: ${link}`),
    '',
    `The link opens a page where you can add a comment and send your answer. It works until ${until}.`,
    '',
    sellerName,
  ].join('\n');
  const cell = (link: string, score: number) =>
    `<td style="padding:2px"><a href="${escapeHtml(link)}" style="display:inline-block;min-width:28px;padding:8px 4px;text-align:center;border:1px solid #888;border-radius:4px;color:#222;text-decoration:none">${score}</a></td>`;
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;color:#222">',
    `<p>Dear ${escapeHtml(customerName)},</p>`,
    `<p>your order ${escapeHtml(orderId)} has been delivered. One question, one click:</p>`,
    `<p><strong>${question}</strong></p>`,
    `<table role="presentation"><tr>${links.map(cell).join('')}</tr></table>`,
    '<p style="font-size:small">0 = not at all likely, 10 = extremely likely. The link opens a page where you can add a comment and send your answer.',
    ` It works until ${until}.</p>`,
    `<p>${escapeHtml(sellerName)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: `Order ${orderId}: how did we do?`, text, html };
}
