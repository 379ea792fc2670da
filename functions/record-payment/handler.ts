import { Mailer } from '../adapters/mailer.ts';
import { InvoiceNumber, PaymentRequest } from '../core/schemas.ts';
import { requireEnv } from '../lib/config.ts';
import { clock, eventPublisher, invoiceLedger, invoicesRepository, ordersRepository } from '../lib/deps.ts';
import { paymentConflict } from '../lib/finance-routes.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { invoiceView } from '../lib/invoice-views.ts';
import { ledgerEvents } from '../lib/ledger-events.ts';
import { receivePayment } from '../lib/payments-on-account.ts';

const invoices = invoicesRepository();
const deps = {
  ledger: invoiceLedger(invoices),
  mailer: new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined),
  events: ledgerEvents({ orders: ordersRepository(), events: eventPublisher() }),
  clock,
};

/**
 * POST /invoices/{number}/payments (finance): `{ amount, reference, receivedAt }`, once per reference.
 * Paid in full: the invoice is `paid` and the customer gets a payment receipt (once). The payment is
 * published (OrderPaymentReceived) on every call, a replay too; one nobody came back for is published
 * by the credit-note sweep (lib/payments-on-account.ts). A replay answers with the payment as recorded.
 */
export const handler = httpRoute(async (event) => {
  const invoiceNumber = pathParameter(event, 'number', InvoiceNumber);
  const payment = parseOr400(PaymentRequest, jsonBody(event));
  if (!(await invoices.findInvoice(invoiceNumber)))
    throw new HttpError(404, 'InvoiceNotFound', `Invoice ${invoiceNumber} does not exist`);
  const outcome = await receivePayment(deps, invoiceNumber, payment).catch(paymentConflict);
  return json(outcome.replayed ? 200 : 201, {
    invoice: invoiceView(outcome.invoice),
    payment: { ...outcome.payment, replayed: outcome.replayed },
  });
});
