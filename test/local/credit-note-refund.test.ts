import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvoiceLedger } from '../../functions/adapters/invoice-ledger.ts';
import { InvoicesRepository } from '../../functions/adapters/invoices-repository.ts';
import { finishCreditNote, issueCreditNote } from '../../functions/lib/credit-notes.ts';
import { ledgerEvents } from '../../functions/lib/ledger-events.ts';
import { publishPayment, receivePayment } from '../../functions/lib/payments-on-account.ts';
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
  });

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
  });
});

/** What a sweep's grace (2 minutes) has let through by then. */
const later = (ms = 3 * 60_000) => new Date(Date.now() + ms);

describe('credit notes are published once numbered, whatever their e-mails do', () => {
  const noteDeps = (mailer: { send: () => Promise<string> }, clock = () => new Date()) => {
    const invoices = new InvoicesRepository(t.names.invoices);
    return {
      invoices,
      ledger: new InvoiceLedger(invoices, t.names.invoices, t.names.customers),
      payments: { refund: async (r: { refundKey: string }) => ({ refundId: `re_${r.refundKey}` }) } as never,
      documents: { put: async () => {} } as never,
      mailer: mailer as never,
      financeEmail: 'fin@example.com',
      events: { creditNoteIssued: vi.fn(async (_note: { creditNoteNumber: string }) => {}) },
      clock,
    };
  };

  it('an e-mail that always fails: the note is published all the same and stays for the sweep', async () => {
    await db.send(new PutCommand({ TableName: t.names.invoices, Item: invoice('INV-2026-000004', 'ord-F') }));
    const deps = noteDeps({ send: async () => Promise.reject(new Error('SES rejected the message')) });
    const input = { invoiceNumber: 'INV-2026-000004', requestId: 'reqF', reason: 'damaged' };
    await expect(issueCreditNote(deps, input)).rejects.toThrow(/SES/);
    const note = await deps.invoices.findNumbered<{ creditNoteNumber: string; refundId: string }>('CN', 'reqF');
    expect(note?.refundId).toBe('re_creditnote:reqF');
    expect(deps.events.creditNoteIssued.mock.calls.map(([n]) => n.creditNoteNumber)).toEqual([note?.creditNoteNumber]);
    expect(await deps.ledger.unfinishedCreditNoteRequests(later())).toContain('reqF');
    // The sweep publishes it again (the same fact) and, its e-mail still failing, leaves it listed.
    await expect(finishCreditNote(deps, 'reqF')).rejects.toThrow(/SES/);
    expect(deps.events.creditNoteIssued).toHaveBeenCalledTimes(2);
    expect(await deps.ledger.unfinishedCreditNoteRequests(later())).toContain('reqF');
  });

  it('the grace counts from the numbering: a note requested long ago is not swept while its caller delivers it', async () => {
    await db.send(new PutCommand({ TableName: t.names.invoices, Item: invoice('INV-2026-000005', 'ord-G') }));
    let mailed!: () => void;
    const mailing = new Promise<void>((resolve) => {
      mailed = resolve;
    });
    let sending!: () => void;
    const sendStarted = new Promise<void>((resolve) => {
      sending = resolve;
    });
    // Requested ten minutes ago (its refund was slow): numbered only now.
    const deps = noteDeps(
      {
        send: async () => {
          sending();
          await mailing;
          return 'id';
        },
      },
      () => new Date(Date.now() - 10 * 60_000),
    );
    const issuing = issueCreditNote(deps, { invoiceNumber: 'INV-2026-000005', requestId: 'reqG', reason: 'late' });
    await sendStarted;
    expect(await deps.ledger.unfinishedCreditNoteRequests(new Date())).not.toContain('reqG');
    expect(await deps.ledger.unfinishedCreditNoteRequests(later())).toContain('reqG');
    mailed();
    await issuing;
    expect(await deps.ledger.unfinishedCreditNoteRequests(later())).not.toContain('reqG');
  });

  it('requests that keep failing at the head of one queue do not hide the other queues', async () => {
    // Another year, so this test's queues are its own.
    const now = new Date('2090-06-01T12:00:00.000Z');
    const stuck = Array.from({ length: 120 }, (_, i) => `stuck${String(i).padStart(3, '0')}`);
    await Promise.all(
      stuck.map((requestId, i) =>
        db.send(
          new PutCommand({
            TableName: t.names.invoices,
            Item: {
              pk: `CNREQ#${requestId}`,
              requestId,
              year: 2089,
              pendingYear: 'CNREFUND#2089',
              requestedAt: `2089-01-01T00:00:${String(i % 60).padStart(2, '0')}.000Z#${requestId}`,
            },
          }),
        ),
      ),
    );
    await db.send(
      new PutCommand({
        TableName: t.names.invoices,
        Item: {
          pk: 'CREDITNOTE#CN-2090-000001',
          creditNoteNumber: 'CN-2090-000001',
          requestId: 'numbered2090',
          pendingYear: 'CN#FINISHING#2090',
          requestedAt: '2090-05-01T00:00:00.000Z#numbered2090',
        },
      }),
    );
    const ledger = new InvoiceLedger(new InvoicesRepository(t.names.invoices), t.names.invoices);
    const found = await ledger.unfinishedCreditNoteRequests(now);
    expect(found).toContain('numbered2090');
    expect(found.filter((id) => id.startsWith('stuck'))).toHaveLength(50);
  });
});

describe('payments on account are published, by the sweep if their request failed', () => {
  it('the bus down: the receipt goes, the payment waits in the index; the sweep publishes it as the same event', async () => {
    await db.send(
      new PutCommand({
        TableName: t.names.customers,
        Item: { customerId: 'CUST-1001', openBalance: 2380, creditUsed: 2380 },
      }),
    );
    await db.send(
      new PutCommand({
        TableName: t.names.invoices,
        Item: { ...invoice('INV-2026-000006', 'ord-H'), paymentMethod: 'on_account', status: 'open', amountPaid: 0 },
      }),
    );
    const invoices = new InvoicesRepository(t.names.invoices);
    const ledger = new InvoiceLedger(invoices, t.names.invoices, t.names.customers);
    let busDown = true;
    const attempted: Record<string, unknown>[] = [];
    const published: Record<string, unknown>[] = [];
    const order = {
      orderId: 'ord-H',
      customerId: 'CUST-1001',
      status: 'COMPLETED',
      channel: 'web',
      currency: 'EUR',
      createdAt: '2026-03-01T09:00:00.000Z',
    };
    const deps = {
      ledger,
      mailer: { send: vi.fn(async () => 'id') },
      events: ledgerEvents({
        orders: { get: async () => order as never },
        events: {
          publish: async (_type: string, detail: Record<string, unknown>) => {
            attempted.push(detail);
            if (busDown) throw new Error('EventBridge unavailable');
            published.push(detail);
          },
        } as never,
      }),
      clock: () => new Date(),
    };
    const payment = { amount: 2380, reference: 'BANK-H', receivedAt: '2026-03-06T08:00:00.000Z' };
    await expect(receivePayment(deps, 'INV-2026-000006', payment)).rejects.toThrow(/EventBridge/);
    expect(deps.mailer.send).toHaveBeenCalledTimes(1); // the receipt went out
    // The caller does not come back: after the grace the sweep finds the payment, as recorded.
    expect(await ledger.unpublishedPayments(new Date())).toEqual([]);
    const left = await ledger.unpublishedPayments(later());
    expect(left).toEqual([{ orderId: 'ord-H', invoiceNumber: 'INV-2026-000006', payment }]);
    busDown = false;
    for (const recorded of left) await publishPayment(deps, recorded);
    expect(published).toHaveLength(1);
    expect(published[0]).toEqual(attempted[0]);
    expect(published[0]).toMatchObject({
      eventId: 'ord-H:OrderPaymentReceived:INV-2026-000006:BANK-H',
      occurredAt: payment.receivedAt,
    });
    expect(await ledger.unpublishedPayments(later())).toEqual([]);
    const { Item } = await db.send(
      new GetCommand({ TableName: t.names.invoices, Key: { pk: 'PAYMENT#INV-2026-000006#BANK-H' } }),
    );
    expect(Item?.publishedAt).toBeDefined();
    expect(Item?.pendingYear).toBeUndefined();
  });
});
