import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvoiceLedger } from '../../functions/adapters/invoice-ledger.ts';
import { InvoicesRepository } from '../../functions/adapters/invoices-repository.ts';
import { finishCreditNote, issueCreditNote } from '../../functions/lib/credit-notes.ts';
import { storedCardInvoice as invoice, type LocalTables, startTables } from '../support/tables.ts';

let t: LocalTables;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  t = await startTables();
  db = t.db;
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

describe('card credit notes and their refunds', () => {
  it('a card note whose refund failed is not numbered by another request, and its retry refunds it once', async () => {
    await db.send(new PutCommand({ TableName: t.names.invoices, Item: invoice('INV-2026-000001', 'ord-A') }));
    await db.send(new PutCommand({ TableName: t.names.invoices, Item: invoice('INV-2026-000002', 'ord-B') }));
    const invoices = new InvoicesRepository(t.names.invoices);
    let failA = true;
    const refund = vi.fn(async (r: { refundKey: string }) => {
      if (r.refundKey === 'creditnote:reqA' && failA) {
        failA = false;
        throw new Error('PaymentProviderUnavailable (timeout)');
      }
      return { refundId: `re_${r.refundKey}` };
    });
    const deps = {
      invoices,
      ledger: new InvoiceLedger(invoices, t.names.invoices, t.names.customers),
      payments: { refund } as never,
      documents: { put: async () => {} } as never,
      mailer: { send: vi.fn(async () => 'id') } as never,
      financeEmail: 'fin@example.com',
      events: { creditNoteIssued: vi.fn(async () => {}) },
      clock: () => new Date(),
    };
    // 1. Finance credits invoice 1: recorded, then the refund call times out (500 to the client).
    await expect(
      issueCreditNote(deps, { invoiceNumber: 'INV-2026-000001', requestId: 'reqA', reason: 'damaged' }),
    ).rejects.toThrow();
    // 2. Meanwhile a credit note on another invoice: its caller holds the CN lease and numbers every pending request.
    const b = await issueCreditNote(deps, { invoiceNumber: 'INV-2026-000002', requestId: 'reqB', reason: 'damaged' });
    // 3. Finance retries A with the same Idempotency-Key.
    const a = await issueCreditNote(deps, { invoiceNumber: 'INV-2026-000001', requestId: 'reqA', reason: 'damaged' });
    expect(a.settlement).toBe('refund');
    expect(a.refundId).toBe('re_creditnote:reqA');
    expect(b.refundId).toBe('re_creditnote:reqB');
    // B, numbered while A waited for its refund, took the first number; A its own after the refund.
    expect(b.creditNoteNumber).toMatch(/^CN-\d{4}-000001$/);
    expect(a.creditNoteNumber).toMatch(/^CN-\d{4}-000002$/);
    const stored = (
      await db.send(new GetCommand({ TableName: t.names.invoices, Key: { pk: `CREDITNOTE#${a.creditNoteNumber}` } }))
    ).Item;
    expect(stored?.refundId).toBe('re_creditnote:reqA');
    expect(refund.mock.calls.map((c) => c[0].refundKey).sort()).toEqual([
      'creditnote:reqA',
      'creditnote:reqA',
      'creditnote:reqB',
    ]);
  }, 60_000);

  it('a note whose event failed to publish stays for the sweep, which publishes it again as the same fact', async () => {
    await db.send(new PutCommand({ TableName: t.names.invoices, Item: invoice('INV-2026-000003', 'ord-C') }));
    const invoices = new InvoicesRepository(t.names.invoices);
    const ledger = new InvoiceLedger(invoices, t.names.invoices, t.names.customers);
    let busDown = true;
    const published: { creditNoteNumber: string; issuedAt: string }[] = [];
    const creditNoteIssued = vi.fn(async (note: { creditNoteNumber: string; issuedAt: string }) => {
      if (busDown) throw new Error('EventBridge unavailable');
      published.push({ creditNoteNumber: note.creditNoteNumber, issuedAt: note.issuedAt });
    });
    const deps = {
      invoices,
      ledger,
      payments: { refund: async (r: { refundKey: string }) => ({ refundId: `re_${r.refundKey}` }) } as never,
      documents: { put: async () => {} } as never,
      mailer: { send: vi.fn(async () => 'id') } as never,
      financeEmail: 'fin@example.com',
      events: { creditNoteIssued },
      clock: () => new Date(),
    };
    // Numbered, delivered, then the publish fails: the caller gets an error and does not come back.
    await expect(
      issueCreditNote(deps, { invoiceNumber: 'INV-2026-000003', requestId: 'reqC', reason: 'damaged' }),
    ).rejects.toThrow(/EventBridge/);
    const note = await invoices.findNumbered<{ creditNoteNumber: string; issuedAt: string }>('CN', 'reqC');
    expect(note?.creditNoteNumber).toMatch(/^CN-/);
    // Not before its caller had time to finish it; then the sweep finds it (and publishes it).
    const now = new Date();
    expect(await ledger.unfinishedCreditNoteRequests(now)).not.toContain('reqC');
    const later = new Date(now.getTime() + 3 * 60_000);
    expect(await ledger.unfinishedCreditNoteRequests(later)).toContain('reqC');
    busDown = false;
    const swept = await finishCreditNote(deps, 'reqC');
    expect(swept.creditNoteNumber).toBe(note?.creditNoteNumber);
    expect(published).toEqual([{ creditNoteNumber: String(note?.creditNoteNumber), issuedAt: String(note?.issuedAt) }]);
    // Published: it leaves the sweep's partition; a retry by the caller still publishes the same fact.
    expect(await ledger.unfinishedCreditNoteRequests(later)).not.toContain('reqC');
    await issueCreditNote(deps, { invoiceNumber: 'INV-2026-000003', requestId: 'reqC', reason: 'damaged' });
    expect(published).toHaveLength(2);
    expect(published[1]).toEqual(published[0]);
    // The stored note answers without its index attributes.
    expect(Object.keys((await invoices.findCreditNote(String(note?.creditNoteNumber))) ?? {})).not.toContain(
      'pendingYear',
    );
  }, 60_000);
});
