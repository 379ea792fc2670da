import type { StoredCreditNote, StoredInvoice } from '../adapters/invoices-repository.ts';
import { creditNoteTaxByRate, outstanding } from '../core/invoicing.ts';

/** An invoice as the API shows it: the document's fields, its tax summary and what is still owed. */
export function invoiceView(invoice: StoredInvoice) {
  const { pdfKey, emailedAt: _e, financeCopiedAt: _f, receiptSentAt: _r, creditedLines: _c, ...fields } = invoice;
  return {
    ...fields,
    taxSummary: invoice.totals.taxByRate,
    outstanding: outstanding(invoice),
    pdf: pdfKey ? `/invoices/${invoice.invoiceNumber}/pdf` : null,
  };
}

export function creditNoteView(note: StoredCreditNote) {
  const { pdfKey, emailedAt: _e, financeCopiedAt: _f, finishedAt: _p, ...fields } = note;
  return {
    ...fields,
    taxSummary: creditNoteTaxByRate(note),
    pdf: pdfKey ? `/credit-notes/${note.creditNoteNumber}/pdf` : null,
  };
}
