import { createHash } from 'node:crypto';
import { DocumentStore } from '../adapters/document-store.ts';
import { Mailer } from '../adapters/mailer.ts';
import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { CreditNoteRefused, InvoiceNumberPending } from '../core/errors.ts';
import { CreditNoteRequest, InvoiceNumber } from '../core/schemas.ts';
import { requireEnv } from '../lib/config.ts';
import { CreditNoteRequestReused, issueCreditNote } from '../lib/credit-notes.ts';
import { clock, invoiceLedger, invoicesRepository } from '../lib/deps.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { creditNoteView } from '../lib/invoice-views.ts';

const invoices = invoicesRepository();
const deps = {
  invoices,
  ledger: invoiceLedger(invoices),
  payments: new SandboxPaymentProvider(),
  documents: new DocumentStore(requireEnv('DOCUMENTS_BUCKET_NAME')),
  mailer: new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined),
  financeEmail: requireEnv('FINANCE_EMAIL'),
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
  const key = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'idempotency-key')?.[1];
  // Required: a half-failed call is resumed by repeating it, never issued a second time.
  if (!key?.trim())
    throw new HttpError(400, 'ValidationError', 'The Idempotency-Key header is required', [
      { path: 'Idempotency-Key', message: 'is required (a retry with the same key continues the same credit note)' },
    ]);
  const requestId = createHash('sha256').update(`${invoiceNumber}\n${key}`).digest('hex').slice(0, 32);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ reason: body.reason, lines: body.lines ?? null }))
    .digest('hex');
  try {
    const note = await issueCreditNote(deps, {
      invoiceNumber,
      requestId,
      reason: body.reason,
      lines: body.lines,
      fingerprint,
    });
    return json(201, creditNoteView(note));
  } catch (error) {
    if (error instanceof CreditNoteRequestReused)
      throw new HttpError(
        422,
        'IdempotencyKeyReused',
        'This Idempotency-Key was already used with a different credit note',
        [{ path: 'Idempotency-Key', message: 'was used for a different request body' }],
      );
    // Recorded (and refunded), only its number is still on its way: the sweep finishes it.
    if (error instanceof InvoiceNumberPending) return json(202, { requestId, status: 'pending' });
    if (error instanceof CreditNoteRefused)
      throw new HttpError(422, 'CreditNoteRefused', error.message, [
        { path: body.lines ? 'lines' : '(body)', message: error.message },
      ]);
    throw error;
  }
});
