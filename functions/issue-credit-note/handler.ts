import { createHash } from 'node:crypto';
import { DocumentStore } from '../adapters/document-store.ts';
import { Mailer } from '../adapters/mailer.ts';
import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { CreditNoteRefused } from '../core/errors.ts';
import { CreditNoteRequest, InvoiceNumber } from '../core/schemas.ts';
import { requireEnv } from '../lib/config.ts';
import { issueCreditNote } from '../lib/credit-notes.ts';
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
};

/**
 * POST /invoices/{number}/credit-notes (finance): `{ reason, lines? }`. With an `Idempotency-Key`
 * header a retry continues the same request (one note, one refund); without one each call is new.
 */
export const handler = httpRoute(async (event) => {
  const invoiceNumber = pathParameter(event, 'number', InvoiceNumber);
  const body = parseOr400(CreditNoteRequest, jsonBody(event));
  if (!(await invoices.findInvoice(invoiceNumber)))
    throw new HttpError(404, 'InvoiceNotFound', `Invoice ${invoiceNumber} does not exist`);
  const key = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'idempotency-key')?.[1];
  const requestId = key
    ? createHash('sha256').update(`${invoiceNumber}\n${key}`).digest('hex').slice(0, 32)
    : crypto.randomUUID().replaceAll('-', '');
  try {
    const note = await issueCreditNote(deps, { invoiceNumber, requestId, reason: body.reason, lines: body.lines });
    return json(201, creditNoteView(note));
  } catch (error) {
    if (error instanceof CreditNoteRefused)
      throw new HttpError(422, 'CreditNoteRefused', error.message, [
        { path: body.lines ? 'lines' : '(body)', message: error.message },
      ]);
    throw error;
  }
});
