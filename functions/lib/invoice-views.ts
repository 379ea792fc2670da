import type { StoredCreditNote, StoredInvoice } from '../adapters/invoices-repository.ts';
import { outstanding, taxSummary } from '../core/invoicing.ts';

/** An invoice as the API shows it: the document's fields, its tax summary and what is still owed. */
export function invoiceView(invoice: StoredInvoice) {
  const { pdfKey, emailedAt: _e, financeCopiedAt: _f, receiptSentAt: _r, creditedLines: _c, ...fields } = invoice;
  return {
    ...fields,
    taxSummary: taxSummary(invoice.lines),
    outstanding: outstanding(invoice),
    pdf: pdfKey ? `/invoices/${invoice.invoiceNumber}/pdf` : null,
  };
}

export function creditNoteView(note: StoredCreditNote) {
  const { pdfKey, emailedAt: _e, financeCopiedAt: _f, ...fields } = note;
  return {
    ...fields,
    taxSummary: taxSummary(note.lines.map((l) => ({ ...l, lineSubtotal: l.net, lineTax: l.tax }))),
    pdf: pdfKey ? `/credit-notes/${note.creditNoteNumber}/pdf` : null,
  };
}
