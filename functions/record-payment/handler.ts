import { Mailer } from '../adapters/mailer.ts';
import { PaymentRefused } from '../core/errors.ts';
import { formatMoney } from '../core/money.ts';
import { InvoiceNumber, PaymentRequest } from '../core/schemas.ts';
import { requireEnv } from '../lib/config.ts';
import { clock, invoiceLedger, invoicesRepository } from '../lib/deps.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { invoiceView } from '../lib/invoice-views.ts';

const invoices = invoicesRepository();
const ledger = invoiceLedger(invoices);
const mailer = new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined);

const STATUS: Record<PaymentRefused['reason'], number> = {
  exceeds_outstanding: 422,
  not_on_account: 409,
  not_open: 409,
  reference_reused: 409,
};

/**
 * POST /invoices/{number}/payments (finance): `{ amount, reference, receivedAt }`, once per reference.
 * Paid in full: the invoice is `paid` and the customer gets a payment receipt (once).
 */
export const handler = httpRoute(async (event) => {
  const invoiceNumber = pathParameter(event, 'number', InvoiceNumber);
  const payment = parseOr400(PaymentRequest, jsonBody(event));
  if (!(await invoices.findInvoice(invoiceNumber)))
    throw new HttpError(404, 'InvoiceNotFound', `Invoice ${invoiceNumber} does not exist`);
  let outcome: Awaited<ReturnType<typeof ledger.recordPayment>>;
  try {
    outcome = await ledger.recordPayment(invoiceNumber, payment);
  } catch (error) {
    if (error instanceof PaymentRefused)
      throw new HttpError(STATUS[error.reason], 'PaymentRefused', error.message, [
        { path: error.reason === 'exceeds_outstanding' ? 'amount' : 'reference', message: error.message },
      ]);
    throw error;
  }
  const { invoice } = outcome;
  // Also on a replay: a receipt that failed to go out after the payment was recorded goes now. Only
  // for the payment that paid the invoice in full (not one replayed after a credit note settled it),
  // and claimed first, so concurrent replays send it once.
  if (
    outcome.paidInFull &&
    !invoice.receiptSentAt &&
    (await ledger.claimSend('INV', invoiceNumber, 'receiptSentAt', clock()))
  ) {
    await mailer.send({
      to: [invoice.customerEmail],
      subject: `Payment received: invoice ${invoiceNumber}`,
      text: [
        `Dear ${invoice.customerName},`,
        '',
        `we have received your payment for invoice ${invoiceNumber} (${formatMoney(invoice.amountPaid, invoice.currency)}, last payment ${payment.reference} on ${payment.receivedAt.slice(0, 10)}). The invoice is paid in full. Thank you.`,
        '',
        invoice.seller.legalName,
      ].join('\n'),
    });
    await ledger.markSent('INV', invoiceNumber, 'receiptSentAt', clock());
  }
  return json(outcome.replayed ? 200 : 201, {
    invoice: invoiceView(invoice),
    payment: { ...payment, replayed: outcome.replayed },
  });
});
