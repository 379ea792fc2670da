import { DocumentStore } from '../adapters/document-store.ts';
import { CreditNoteNumber, InvoiceNumber } from '../core/schemas.ts';
import { requireEnv } from '../lib/config.ts';
import { invoicesRepository } from '../lib/deps.ts';
import { HttpError, httpRoute, json, pathParameter } from '../lib/http.ts';
import { creditNoteView, invoiceView } from '../lib/invoice-views.ts';

const invoices = invoicesRepository();
const documents = new DocumentStore(requireEnv('DOCUMENTS_BUCKET_NAME'));

/**
 * GET /invoices/{number}, /invoices/{number}/pdf, /credit-notes/{number}, /credit-notes/{number}/pdf:
 * the record as JSON, or the PDF as issued (binary: base64 with isBase64Encoded, as API Gateway wants).
 */
export const handler = httpRoute(async (event) => {
  const creditNote = event.routeKey.startsWith('GET /credit-notes/');
  const number = pathParameter(event, 'number', creditNote ? CreditNoteNumber : InvoiceNumber);
  const found = creditNote ? await invoices.findCreditNote(number) : await invoices.findInvoice(number);
  if (!found) {
    const what = creditNote ? 'Credit note' : 'Invoice';
    throw new HttpError(404, `${what.replace(' ', '')}NotFound`, `${what} ${number} does not exist`);
  }
  if (!event.routeKey.endsWith('/pdf')) {
    return json(200, creditNote ? creditNoteView(found as never) : invoiceView(found as never));
  }
  if (!found.pdfKey) throw new HttpError(404, 'PdfNotReady', `The PDF of ${number} is not stored yet; try again`);
  const pdf = await documents.get(found.pdfKey);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/pdf', 'content-disposition': `inline; filename="${number}.pdf"` },
    body: Buffer.from(pdf).toString('base64'),
    isBase64Encoded: true,
  };
});
