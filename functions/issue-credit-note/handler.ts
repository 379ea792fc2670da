import { DocumentStore } from '../adapters/document-store.ts';
import { Mailer } from '../adapters/mailer.ts';
import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { InvoiceNumberPending } from '../core/errors.ts';
import { CreditNoteRequest, InvoiceNumber } from '../core/schemas.ts';
import { requireEnv } from '../lib/config.ts';
import { issueCreditNote } from '../lib/credit-notes.ts';
import { clock, eventPublisher, invoiceLedger, invoicesRepository, ordersRepository } from '../lib/deps.ts';
import { creditNoteConflict, creditNoteRequestOf } from '../lib/finance-routes.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { creditNoteView } from '../lib/invoice-views.ts';
import { ledgerEvents } from '../lib/ledger-events.ts';

const invoices = invoicesRepository();
const deps = {
  invoices,
  ledger: invoiceLedger(invoices),
  payments: new SandboxPaymentProvider(),
  documents: new DocumentStore(requireEnv('DOCUMENTS_BUCKET_NAME')),
  mailer: new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined),
  financeEmail: requireEnv('FINANCE_EMAIL'),
  events: ledgerEvents({ orders: ordersRepository(), events: eventPublisher() }),
  clock,
  // API Gateway gives up after 30 s: past this the answer is 202 and the sweep numbers the note.
  numberWaitMs: 15_000,
};

/**
 * POST /invoices/{number}/credit-notes (finance): `{ reason, lines? }` with a required
 * `Idempotency-Key`: a retry continues the same request (one note, one refund); the same key with
 * another body is refused (422). A note whose number takes longer is answered 202 with its request id.
 */
export const handler = httpRoute(async (event) => {
  const invoiceNumber = pathParameter(event, 'number', InvoiceNumber);
  const body = parseOr400(CreditNoteRequest, jsonBody(event));
  if (!(await invoices.findInvoice(invoiceNumber)))
    throw new HttpError(404, 'InvoiceNotFound', `Invoice ${invoiceNumber} does not exist`);
  const { requestId, fingerprint } = creditNoteRequestOf(event, invoiceNumber, body);
  try {
    const input = { invoiceNumber, requestId, reason: body.reason, lines: body.lines, fingerprint };
    return json(201, creditNoteView(await issueCreditNote(deps, input)));
  } catch (error) {
    // Recorded (and refunded), only its number is still on its way: the sweep finishes it.
    if (error instanceof InvoiceNumberPending) return json(202, { requestId, status: 'pending' });
    return creditNoteConflict(body)(error);
  }
});
