import type { DocumentStore } from '../adapters/document-store.ts';
import type { CreditNoteRequestRecord, InvoiceLedger } from '../adapters/invoice-ledger.ts';
import type { InvoicesRepository, StoredCreditNote } from '../adapters/invoices-repository.ts';
import type { Mailer } from '../adapters/mailer.ts';
import { type PaymentProvider, paymentKey } from '../adapters/payments.ts';
import { creditNoteEmail, creditNoteFinanceCopy } from '../core/emails.ts';
import { CreditNoteRequestReused } from '../core/errors.ts';
import { creditNotePdfKey, invoiceYear } from '../core/invoice-number.ts';
import { creditNoteLines } from '../core/invoicing.ts';
import { type LedgerEvents, publishAndDeliver } from './ledger-events.ts';
import { logOrder } from './powertools.ts';

export interface CreditNoteDeps {
  invoices: InvoicesRepository;
  ledger: InvoiceLedger;
  payments: PaymentProvider;
  documents: DocumentStore;
  mailer: Mailer;
  financeEmail: string;
  /** Publishes OrderCreditNoteIssued (lib/ledger-events.ts). */
  events: Pick<LedgerEvents, 'creditNoteIssued'>;
  clock: () => Date;
  /** How long a caller waits for the note's number (default 20 s); past it InvoiceNumberPending, the sweep finishes. */
  numberWaitMs?: number;
}

export interface CreditNoteInput {
  invoiceNumber: string;
  /** Names the request: the same id again (a retry) continues it, never issues a second note or refund. */
  requestId: string;
  reason: string;
  /** Omitted: everything not credited yet. */
  lines?: { sku: string; quantity: number }[];
  /** Names the body the request was made with: the same request id with another body is refused. */
  fingerprint?: string;
}

/**
 * Issues a credit note against an invoice, in an order that loses nothing and never refunds without
 * its note: (1) the request is recorded with the invoice's credited amount and, on account, the
 * customer's balance, in one transaction, and queued for its number; (2) a card payment is refunded,
 * keyed by the request; (3) the note is numbered in the CN series; (4) OrderCreditNoteIssued is
 * published; (5) its PDF is stored and e-mailed to the customer's billing address, with finance's own
 * copy (also when the publish failed: each is retried on its own). Every step is safe to repeat: a retry
 * with the same request id picks up where the last attempt stopped. Throws CreditNoteRefused when
 * the note would exceed what may be credited.
 */
export async function issueCreditNote(deps: CreditNoteDeps, input: CreditNoteInput): Promise<StoredCreditNote> {
  const recorded = await deps.ledger.creditNoteRequest(input.requestId);
  if (recorded?.fingerprint && input.fingerprint && recorded.fingerprint !== input.fingerprint)
    throw new CreditNoteRequestReused(`Request ${input.requestId} was made with another body`);
  const existing = await deps.invoices.findNumbered<StoredCreditNote>('CN', input.requestId);
  const note = existing ?? (await request(deps, input));
  logOrder(note.orderId);
  return finish(deps, await refunded(deps, input.requestId, note));
}

/**
 * Finishes a recorded request whose caller gave up or failed half-way (the scheduled sweep): the
 * refund if due, the number, the event, the PDF and the e-mails, exactly as a retry would.
 */
export async function finishCreditNote(deps: CreditNoteDeps, requestId: string): Promise<StoredCreditNote> {
  const existing = await deps.invoices.findNumbered<StoredCreditNote>('CN', requestId);
  if (existing) {
    logOrder(existing.orderId);
    return finish(deps, await refunded(deps, requestId, existing));
  }
  const recorded = await deps.ledger.creditNoteRequest(requestId);
  if (!recorded) throw new Error(`Credit-note request ${requestId} does not exist`);
  logOrder(recorded.draft.orderId);
  const note = await settleAndNumber(deps, recorded);
  return finish(deps, await refunded(deps, requestId, note));
}

/**
 * The note is numbered (and refunded): OrderCreditNoteIssued is published at once, on every call (a
 * retry or the sweep publishes the same event again: same id, the note's date), then the note is
 * delivered whatever came of the publish. Once both are done the note leaves the sweep's partition;
 * a publish or an e-mail that fails leaves it there, so the sweep does what is left later.
 */
async function finish(deps: CreditNoteDeps, numbered: StoredCreditNote): Promise<StoredCreditNote> {
  const note = await publishAndDeliver(
    () => deps.events.creditNoteIssued(numbered),
    () => deliver(deps, numbered),
  );
  if (note.finishedAt) return note;
  const at = deps.clock();
  await deps.invoices.markCreditNoteFinished(note.creditNoteNumber, at);
  return { ...note, finishedAt: at.toISOString() };
}

/**
 * A card note is never left without its refund: one numbered without it (by an earlier holder, or
 * its refund recorded only on the request) gets it now, keyed by the request as always.
 */
async function refunded(deps: CreditNoteDeps, requestId: string, note: StoredCreditNote): Promise<StoredCreditNote> {
  if (note.settlement !== 'refund' || note.refundId) return note;
  const recorded = await deps.ledger.creditNoteRequest(requestId);
  const refundId =
    recorded?.refundId ??
    (
      await deps.payments.refund({
        refundKey: `creditnote:${requestId}`,
        authorizationKey: paymentKey(note.orderId, 'authorize'),
        amount: note.totals.total,
      })
    ).refundId;
  await deps.invoices.updateCreditNote(note.creditNoteNumber, { refundId });
  return { ...note, refundId };
}

async function request(deps: CreditNoteDeps, input: CreditNoteInput): Promise<StoredCreditNote> {
  const issuedAt = deps.clock();
  const recorded = await deps.ledger.requestCreditNote(
    input.invoiceNumber,
    input.requestId,
    invoiceYear(issuedAt),
    (invoice) => {
      const { lines, totals } = creditNoteLines(invoice, input.lines);
      return {
        requestId: input.requestId,
        invoiceNumber: invoice.invoiceNumber,
        orderId: invoice.orderId,
        customerId: invoice.customerId,
        customerName: invoice.customerName,
        customerEmail: invoice.customerEmail,
        ...(invoice.customerVatId ? { customerVatId: invoice.customerVatId } : {}),
        seller: invoice.seller,
        billingAddress: invoice.billingAddress,
        issuedAt: issuedAt.toISOString(),
        currency: invoice.currency,
        reason: input.reason,
        lines,
        totals,
        paymentMethod: invoice.paymentMethod,
        settlement: invoice.paymentMethod === 'card' ? 'refund' : 'balance',
      };
    },
    input.fingerprint,
  );
  // Numbered meanwhile (a concurrent retry): the note is the record now.
  if (recorded.creditNoteNumber) {
    const numbered = await deps.invoices.findCreditNote(recorded.creditNoteNumber);
    if (numbered) return numbered;
  }
  return settleAndNumber(deps, recorded);
}

/** A recorded request: its card refund (keyed by the request) first, then its number. */
async function settleAndNumber(deps: CreditNoteDeps, recorded: CreditNoteRequestRecord): Promise<StoredCreditNote> {
  const { requestId, draft } = recorded;
  let refundId = recorded.refundId;
  if (draft.settlement === 'refund' && !refundId) {
    ({ refundId } = await deps.payments.refund({
      refundKey: `creditnote:${requestId}`,
      authorizationKey: paymentKey(draft.orderId, 'authorize'),
      amount: draft.totals.total,
    }));
    await deps.ledger.markRefunded(requestId, refundId, recorded.year);
  }
  const note = await deps.invoices.number<StoredCreditNote>('CN', requestId, draft, recorded.year, {
    waitMs: deps.numberWaitMs,
  });
  if (refundId && !note.refundId) {
    await deps.invoices.updateCreditNote(note.creditNoteNumber, { refundId });
    return { ...note, refundId };
  }
  return note;
}

/** PDF to S3, the customer's e-mail, finance's copy: each once, recorded on the note. */
async function deliver(deps: CreditNoteDeps, note: StoredCreditNote): Promise<StoredCreditNote> {
  if (note.pdfKey && note.emailedAt && note.financeCopiedAt) return note;
  const number = note.creditNoteNumber;
  // The PDF writer and the fonts load on the first render, not at INIT: that invocation pays for them.
  const { renderCreditNotePdf } = await import('../adapters/invoice-pdf.ts');
  const pdf = renderCreditNotePdf(note);
  const pdfKey = creditNotePdfKey(number);
  const delivered = { ...note };
  if (!note.pdfKey) {
    await deps.documents.put(pdfKey, pdf, 'application/pdf');
    await deps.invoices.updateCreditNote(number, { pdfKey });
    delivered.pdfKey = pdfKey;
  }
  const attachments = [{ fileName: `${number}.pdf`, contentType: 'application/pdf', content: pdf }];
  // Each e-mail is claimed first: a concurrent call (a retry, the sweep) does not send it beside the
  // claim holder but throws EmailSendInProgress until it was sent; a failed send lets go (retry sends).
  if (!note.emailedAt) {
    const at = await deps.ledger.sendOnce('CN', number, 'emailedAt', deps.clock, () =>
      deps.mailer.send({ to: [note.customerEmail], ...creditNoteEmail(note), attachments }),
    );
    if (at) delivered.emailedAt = at.toISOString();
  }
  if (!note.financeCopiedAt) {
    const at = await deps.ledger.sendOnce('CN', number, 'financeCopiedAt', deps.clock, () =>
      deps.mailer.send({ to: [deps.financeEmail], ...creditNoteFinanceCopy(note), attachments }),
    );
    if (at) delivered.financeCopiedAt = at.toISOString();
  }
  return delivered;
}
