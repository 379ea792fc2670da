import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApprovalsRepository } from '../../functions/adapters/approvals-repository.ts';
import { InvoiceLedger } from '../../functions/adapters/invoice-ledger.ts';
import { InvoicesRepository } from '../../functions/adapters/invoices-repository.ts';
import { ReplyLedger } from '../../functions/adapters/reply-ledger.ts';
import { EmailSendInProgress } from '../../functions/core/errors.ts';
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
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
const deferred = () => {
  let settle: { resolve(): void; reject(error: Error): void } = { resolve: () => {}, reject: () => {} };
  const promise = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  return { promise, ...settle };
};

/** Waits until the item carries a claim (`attribute`, taken at `claimedAt` if given). */
async function eventuallyClaimed(table: string, key: Record<string, string>, attribute: string, claimedAt?: Date) {
  for (let i = 0; i < 100; i++) {
    const { Item } = await db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    const claim = Item?.[attribute] as string | undefined;
    if (claim && (!claimedAt || claim === claimedAt.toISOString())) return;
    await sleep(20);
  }
  throw new Error(`${JSON.stringify(key)} was never claimed`);
}
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
      events: { creditNoteIssued: async () => {} },
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
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => issueCreditNote(deps, input)));
    // The claim holder sends both; the others are told to retry rather than answer "done" beside it.
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === 'rejected'))
      expect((o as PromiseRejectedResult).reason).toBeInstanceOf(EmailSendInProgress);
    await issueCreditNote(deps, input); // their retry finds both sent
    const recipients = send.mock.calls.map((call) => (call as unknown as [{ to: string[] }])[0].to[0]).sort();
    expect(recipients).toEqual(['fin@example.com', 'jane@example.com']);
    const stored = await invoices.findCreditNote(String(note?.creditNoteNumber));
    expect(stored?.emailedAt).toBeDefined();
    expect(stored?.financeCopiedAt).toBeDefined();
  });

  it('a claim is held by one sender until marked, and taken over only once it is stale', async () => {
    const approvals = new ApprovalsRepository(t.names.approvals);
    await db.send(new PutCommand({ TableName: t.names.approvals, Item: { approvalId: 'apr-1', status: 'PENDING' } }));
    const now = new Date();
    const clock = (ms: number) => () => at(now, ms);
    const hung = deferred();
    const sends = [1, 2, 3].map(() => vi.fn(() => hung.promise));
    const lost: unknown[] = [];
    const attempts = sends.map((send) => approvals.emailOnce('apr-1', clock(0), send).catch((e: unknown) => e));
    for (const attempt of attempts) void attempt.then((outcome) => lost.push(outcome));
    // One holds the claim and hangs (as if it died); the two others are told to retry at once.
    await vi.waitFor(() => expect(lost).toHaveLength(2));
    for (const outcome of lost) expect(outcome).toBeInstanceOf(EmailSendInProgress);
    expect(sends.filter((s) => s.mock.calls.length > 0)).toHaveLength(1);
    const send = vi.fn(async () => 'id');
    await expect(approvals.emailOnce('apr-1', clock(60_000), send)).rejects.toBeInstanceOf(EmailSendInProgress);
    // The holder died without marking: after the stale timeout another attempt sends.
    expect(await approvals.emailOnce('apr-1', clock(3 * 60_000), send)).toEqual(at(now, 3 * 60_000));
    expect(await approvals.emailOnce('apr-1', clock(60 * 60_000), send)).toBeUndefined();
    expect(send).toHaveBeenCalledTimes(1);
    // The hung sender fails at last: the claim it lets go of is no longer its, the e-mail stays sent.
    hung.reject(new Error('connection reset'));
    expect(await Promise.all(attempts)).toContainEqual(new Error('connection reset'));
    expect(await approvals.emailOnce('apr-1', clock(61 * 60_000), send)).toBeUndefined();
  });

  describe('replies to order e-mails (ReplyLedger)', () => {
    const expires = (now: Date) => at(now, 7 * 24 * 3600_000);
    const eventuallyReplyClaimed = (id: string, claimedAt?: Date) =>
      eventuallyClaimed(t.names.idempotency, { id }, 'repliedAtClaim', claimedAt);

    it('a send that failed lets go of its claim: the retry a minute later sends the reply, and only it', async () => {
      const ledger = new ReplyLedger(t.names.idempotency);
      const now = new Date();
      const down = Object.assign(new Error('SES throttled'), { name: 'TooManyRequestsException' });
      await expect(ledger.sendOnce('d-failed', now, expires(now), () => Promise.reject(down))).rejects.toBe(down);
      // Lambda's retry, well before a claim goes stale (2 minutes).
      const send = vi.fn(async () => 'id');
      expect(await ledger.sendOnce('d-failed', at(now, 60_000), expires(now), send)).toBe(true);
      expect(await ledger.sendOnce('d-failed', at(now, 120_000), expires(now), send)).toBe(false);
      expect(send).toHaveBeenCalledTimes(1);
    });

    it('a reply another attempt is sending: thrown as EmailSendInProgress (retried), false once it went out', async () => {
      const ledger = new ReplyLedger(t.names.idempotency);
      const now = new Date();
      const slow = deferred();
      const first = ledger.sendOnce('d-busy', now, expires(now), () => slow.promise);
      await eventuallyReplyClaimed('reply#d-busy');
      const other = vi.fn(async () => 'id');
      await expect(ledger.sendOnce('d-busy', at(now, 1000), expires(now), other)).rejects.toBeInstanceOf(
        EmailSendInProgress,
      );
      slow.resolve();
      expect(await first).toBe(true);
      expect(await ledger.sendOnce('d-busy', at(now, 2000), expires(now), other)).toBe(false);
      expect(other).not.toHaveBeenCalled();
    });

    it('a failed sender lets go of its own claim only, not of one taken over after it went stale', async () => {
      const ledger = new ReplyLedger(t.names.idempotency);
      const now = new Date();
      const stuck = deferred();
      const first = ledger.sendOnce('d-stale', now, expires(now), () => stuck.promise);
      await eventuallyReplyClaimed('reply#d-stale');
      // The first attempt hangs past the stale timeout: a retry takes over and is sending.
      const takeover = deferred();
      const second = ledger.sendOnce('d-stale', at(now, 3 * 60_000), expires(now), () => takeover.promise);
      await eventuallyReplyClaimed('reply#d-stale', at(now, 3 * 60_000));
      stuck.reject(new Error('connection reset'));
      await expect(first).rejects.toThrow('connection reset');
      // The takeover's claim still holds: a third attempt does not send beside it.
      const third = vi.fn(async () => 'id');
      await expect(ledger.sendOnce('d-stale', at(now, 3 * 60_000 + 1000), expires(now), third)).rejects.toBeInstanceOf(
        EmailSendInProgress,
      );
      takeover.resolve();
      expect(await second).toBe(true);
      expect(third).not.toHaveBeenCalled();
    });
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
      events: { creditNoteIssued: async () => {} },
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
  });
});
