import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApprovalsRepository } from '../../functions/adapters/approvals-repository.ts';
import { InvoiceLedger } from '../../functions/adapters/invoice-ledger.ts';
import { InvoicesRepository } from '../../functions/adapters/invoices-repository.ts';
import { issueCreditNote } from '../../functions/lib/credit-notes.ts';
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const onAccount = (n: string, orderId: string) => ({
  ...invoice(n, orderId),
  paymentMethod: 'on_account',
  status: 'open',
  amountPaid: 0,
});

describe('e-mails are sent once', () => {
  it('concurrent calls for the same credit note send its e-mails once each', async () => {
    await db.send(new PutCommand({ TableName: t.names.invoices, Item: invoice('INV-2026-000101', 'ord-C') }));
    const invoices = new InvoicesRepository(t.names.invoices);
    // A slow mail server: every caller is past its "not e-mailed yet" check before the first marks it.
    const send = vi.fn(async () => {
      await sleep(300);
      return 'id';
    });
    const deps = {
      invoices,
      ledger: new InvoiceLedger(invoices, t.names.invoices, t.names.customers),
      payments: { refund: async (r: { refundKey: string }) => ({ refundId: `re_${r.refundKey}` }) } as never,
      documents: { put: async () => {} } as never,
      mailer: { send } as never,
      financeEmail: 'fin@example.com',
      clock: () => new Date(),
    };
    const input = { invoiceNumber: 'INV-2026-000101', requestId: 'reqC', reason: 'damaged' };
    await issueCreditNote(deps, input);
    send.mockClear();
    // The note exists; say its first delivery died before marking anything: three callers retry at once.
    const note = await invoices.findNumbered<{ creditNoteNumber: string }>('CN', 'reqC');
    await db.send(
      new UpdateCommand({
        TableName: t.names.invoices,
        Key: { pk: `CREDITNOTE#${note?.creditNoteNumber}` },
        UpdateExpression: 'REMOVE emailedAt, financeCopiedAt',
      }),
    );
    await Promise.all([issueCreditNote(deps, input), issueCreditNote(deps, input), issueCreditNote(deps, input)]);
    const recipients = send.mock.calls.map((call) => (call as unknown as [{ to: string[] }])[0].to[0]).sort();
    expect(recipients).toEqual(['fin@example.com', 'jane@example.com']);
    const stored = await invoices.findCreditNote(String(note?.creditNoteNumber));
    expect(stored?.emailedAt).toBeDefined();
    expect(stored?.financeCopiedAt).toBeDefined();
  }, 60_000);

  it('a claim is held by one sender until marked, and taken over only once it is stale', async () => {
    const approvals = new ApprovalsRepository(t.names.approvals);
    await db.send(new PutCommand({ TableName: t.names.approvals, Item: { approvalId: 'apr-1', status: 'PENDING' } }));
    const now = new Date();
    const claims = await Promise.all([1, 2, 3].map(() => approvals.claimEmail('apr-1', now)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await approvals.claimEmail('apr-1', new Date(now.getTime() + 60_000))).toBe(false);
    // The holder died without marking: after the stale timeout another attempt may send.
    expect(await approvals.claimEmail('apr-1', new Date(now.getTime() + 3 * 60_000))).toBe(true);
    await approvals.markEmailed('apr-1', new Date(now.getTime() + 3 * 60_000));
    expect(await approvals.claimEmail('apr-1', new Date(now.getTime() + 60 * 60_000))).toBe(false);
  });

  it('a payment replayed after a credit note settled the invoice is not "paid in full"', async () => {
    await db.send(
      new PutCommand({
        TableName: t.names.customers,
        Item: { customerId: 'CUST-1001', openBalance: 2380, creditUsed: 2380 },
      }),
    );
    await db.send(new PutCommand({ TableName: t.names.invoices, Item: onAccount('INV-2026-000201', 'ord-D') }));
    const invoices = new InvoicesRepository(t.names.invoices);
    const ledger = new InvoiceLedger(invoices, t.names.invoices, t.names.customers);
    const payment = { amount: 1190, reference: 'BANK-1', receivedAt: '2026-03-05T10:00:00.000Z' };
    expect((await ledger.recordPayment('INV-2026-000201', payment)).paidInFull).toBe(false);
    const deps = {
      invoices,
      ledger,
      payments: {} as never,
      documents: { put: async () => {} } as never,
      mailer: { send: async () => 'id' } as never,
      financeEmail: 'fin@example.com',
      clock: () => new Date(),
    };
    await issueCreditNote(deps, {
      invoiceNumber: 'INV-2026-000201',
      requestId: 'reqD',
      reason: 'one returned',
      lines: [{ sku: 'SKU-1', quantity: 1 }],
    });
    const replay = await ledger.recordPayment('INV-2026-000201', payment);
    expect(replay.invoice.status).toBe('paid'); // by the credit note
    expect(replay).toMatchObject({ replayed: true, paidInFull: false });
    // The payment that does pay in full says so, also when replayed.
    await db.send(new PutCommand({ TableName: t.names.invoices, Item: onAccount('INV-2026-000202', 'ord-E') }));
    const full = { amount: 2380, reference: 'BANK-2', receivedAt: '2026-03-05T10:00:00.000Z' };
    expect((await ledger.recordPayment('INV-2026-000202', full)).paidInFull).toBe(true);
    expect((await ledger.recordPayment('INV-2026-000202', full)).paidInFull).toBe(true);
  }, 60_000);
});
