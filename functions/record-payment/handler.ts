import { Mailer } from '../adapters/mailer.ts';
import { paymentReceiptEmail } from '../core/emails.ts';
import { InvoiceNumber, PaymentRequest } from '../core/schemas.ts';
import { requireEnv } from '../lib/config.ts';
import { clock, eventPublisher, invoiceLedger, invoicesRepository, ordersRepository } from '../lib/deps.ts';
import { paymentConflict } from '../lib/finance-routes.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { invoiceView } from '../lib/invoice-views.ts';
import { ledgerEvents } from '../lib/ledger-events.ts';

const invoices = invoicesRepository();
const ledger = invoiceLedger(invoices);
const mailer = new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined);
const events = ledgerEvents({ orders: ordersRepository(), events: eventPublisher() });

/**
 * POST /invoices/{number}/payments (finance): `{ amount, reference, receivedAt }`, once per reference.
 * Paid in full: the invoice is `paid` and the customer gets a payment receipt (once). The payment is
 * published (OrderPaymentReceived) on every call, a replay too: a publish that failed goes with the retry.
 */
export const handler = httpRoute(async (event) => {
  const invoiceNumber = pathParameter(event, 'number', InvoiceNumber);
  const payment = parseOr400(PaymentRequest, jsonBody(event));
  if (!(await invoices.findInvoice(invoiceNumber)))
    throw new HttpError(404, 'InvoiceNotFound', `Invoice ${invoiceNumber} does not exist`);
  const outcome = await ledger.recordPayment(invoiceNumber, payment).catch(paymentConflict);
  const { invoice } = outcome;
  await events.paymentReceived(invoice, outcome.payment);
  // Also on a replay: a receipt that failed to go out after the payment was recorded goes now. Only
  // for the payment that paid the invoice in full (not one replayed after a credit note settled it),
  // and claimed first, so concurrent replays send it once (one still being sent answers 503: retry).
  if (outcome.paidInFull && !invoice.receiptSentAt) {
    await ledger.sendOnce('INV', invoiceNumber, 'receiptSentAt', clock, () =>
      mailer.send({ to: [invoice.customerEmail], ...paymentReceiptEmail(invoice, payment) }),
    );
  }
  return json(outcome.replayed ? 200 : 201, {
    invoice: invoiceView(invoice),
    payment: { ...payment, replayed: outcome.replayed },
  });
});
