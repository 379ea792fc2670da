import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvoicesRepository } from '../../functions/adapters/invoices-repository.ts';
import { InvoiceNumberPending, InvoiceWithdrawn } from '../../functions/core/errors.ts';
import { SELLER } from '../../functions/core/seller.ts';

const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);

const draft = {
  orderId: 'ord-00000000000000000000000001',
  shipmentId: 'ord-00000000000000000000000001-A1',
  customerId: 'CUST-1002',
  customerName: 'Jane Doe',
  customerEmail: 'jane.doe@example.com',
  issuedAt: '2026-12-31T23:59:50.000Z',
  currency: 'EUR',
  lines: [],
  totals: {
    subtotal: 1000,
    discount: 0,
    tax: 190,
    total: 1190,
    taxByRate: [{ rateBasisPoints: 1900, net: 1000, tax: 190 }],
  },
  billingAddress: { name: 'Jane Doe', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  paymentMethod: 'card' as const,
  seller: SELLER,
  dueDate: '2026-12-31T23:59:50.000Z',
  status: 'paid' as const,
  amountPaid: 1190,
  amountCredited: 0,
};
const exists = () => new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
/** The request transaction refused because the shipment's request exists already. */
const requested = () =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
  });
/** The key of the shipment's request. */
const requestPk = `ORDER#${draft.orderId}#${draft.shipmentId}`;

beforeEach(() => documents.reset());

describe('InvoicesRepository.issue', () => {
  it('gives up by name when its wait is over, also while it keeps getting the lease but not its number', async () => {
    // A retry (its request recorded before, so it numbers only what the index shows): the lease is free every
    // time, but the pending index does not show the request (index lag).
    documents.on(GetCommand).resolves({});
    documents.on(GetCommand, { Key: { pk: requestPk } }).resolves({ Item: { pk: requestPk, year: 2026 } });
    documents.on(PutCommand).resolves({});
    documents.on(TransactWriteCommand).rejects(requested());
    documents.on(BatchGetCommand).resolves({ Responses: { Invoices: [{ pk: requestPk, year: 2026 }] } });
    documents.on(QueryCommand).resolves({ Items: [] });
    documents.on(UpdateCommand).resolves({});
    const started = Date.now();
    await expect(new InvoicesRepository('Invoices').issue(draft, 2026, { waitMs: 200 })).rejects.toBeInstanceOf(
      InvoiceNumberPending,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('numbers a request in the year it was made, also when a retry runs after New Year', async () => {
    const request = { pk: requestPk, orderId: draft.orderId, year: 2026, pendingYear: '2026' };
    documents
      .on(GetCommand)
      .callsFake((input: { Key: { pk: string } }) => (input.Key.pk === request.pk ? { Item: request } : {}));
    documents.on(TransactWriteCommand).rejects(requested());
    documents.on(PutCommand).resolves({});
    // Another function holds the 2026 lease: this retry waits for its number and gives up by name.
    documents
      .on(BatchGetCommand)
      .resolves({ Responses: { Invoices: [request, { pk: 'LEASE#2026', expiresAt: Date.now() + 60_000 }] } });
    await expect(new InvoicesRepository('Invoices').issue(draft, 2027, { waitMs: 100 })).rejects.toBeInstanceOf(
      InvoiceNumberPending,
    );
    const polled = documents
      .commandCalls(BatchGetCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.Invoices?.Keys ?? [])
      .map((key) => key.pk);
    expect(polled).toContain('LEASE#2026');
    expect(polled).not.toContain('LEASE#2027');
    expect(documents.commandCalls(UpdateCommand).map((call) => call.args[0].input.Key?.pk)).not.toContain('LEASE#2027');
  });

  it('never issues a withdrawn request (its order was closed without its invoice), and says so at once', async () => {
    const request = { pk: requestPk, orderId: draft.orderId, year: 2026, withdrawn: true };
    documents.on(GetCommand).resolves({ Item: request });
    documents.on(TransactWriteCommand).rejects(requested());
    documents.on(BatchGetCommand).resolves({ Responses: { Invoices: [request] } });
    await expect(new InvoicesRepository('Invoices').issue(draft, 2026, { waitMs: 5_000 })).rejects.toBeInstanceOf(
      InvoiceWithdrawn,
    );
    expect(documents.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('InvoicesRepository.issue: the lease and the index as DynamoDB answers them', () => {
  const leasePk = 'LEASE#2026';
  /** The lease write of each numbering transaction: its holder and the last number it leaves on the lease. */
  const numberings = () =>
    documents
      .commandCalls(TransactWriteCommand)
      .map((call) => call.args[0].input.TransactItems?.find((item) => item.Update?.Key?.pk === leasePk)?.Update)
      .filter((update) => update !== undefined);

  it("takes a lease written in its holder's batch as held, and numbers its own request the index does not show yet", async () => {
    documents.on(TransactWriteCommand).resolves({});
    // The first try meets the holder's batch in flight (TransactionConflict, which the SDK does not retry); the
    // second finds the lease let go by it, with the last number it gave.
    documents
      .on(UpdateCommand)
      .rejectsOnce(new TransactionConflictException({ message: 'ongoing transaction', $metadata: {} }))
      .resolves({ Attributes: { pk: leasePk, last: 3 } });
    documents.on(BatchGetCommand).resolves({ Responses: { Invoices: [{ pk: requestPk, year: 2026 }] } });
    documents.on(QueryCommand).resolves({ Items: [] }); // the index behind the table: our request not in it yet
    const invoice = await new InvoicesRepository('Invoices').issue(draft, 2026, { waitMs: 5_000 });
    expect(invoice.invoiceNumber).toBe('INV-2026-000004');
    expect(documents.commandCalls(GetCommand)).toHaveLength(0); // the counter's last came with the lease
    const [numbering] = numberings();
    expect(numbering?.ExpressionAttributeValues?.[':last']).toBe(4);
    expect(numbering?.ExpressionAttributeValues?.[':expires']).toBe(0); // let go with the batch
  });

  it('takes the lease as its own when the write that took it is answered late and its retry refused', async () => {
    documents.on(TransactWriteCommand).resolves({});
    documents.on(UpdateCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => {
      const lease = {
        pk: leasePk,
        owner: input.ExpressionAttributeValues[':me'],
        expiresAt: Date.now() + 5_000,
        last: 9,
      };
      throw new ConditionalCheckFailedException({ message: 'refused', $metadata: {}, Item: marshall(lease) });
    });
    documents.on(QueryCommand).resolves({ Items: [] });
    const invoice = await new InvoicesRepository('Invoices').issue(draft, 2026, { waitMs: 5_000 });
    expect(invoice.invoiceNumber).toBe('INV-2026-000010');
    expect(documents.commandCalls(BatchGetCommand)).toHaveLength(0); // no wait for a lease that was ours
  });

  it('two calls sharing one repository are two lease owners: the second waits for the first instead of numbering beside it', async () => {
    documents.on(TransactWriteCommand).resolves({});
    let holder: unknown;
    documents
      .on(UpdateCommand)
      .callsFake((input: { Key: { pk: string }; ExpressionAttributeValues: Record<string, unknown> }) => {
        if (input.Key.pk !== leasePk) return {};
        holder ??= input.ExpressionAttributeValues[':me'];
        if (holder === input.ExpressionAttributeValues[':me']) return { Attributes: { pk: leasePk, last: 1 } };
        const lease = { pk: leasePk, owner: holder, expiresAt: Date.now() + 5_000 };
        throw new ConditionalCheckFailedException({ message: 'refused', $metadata: {}, Item: marshall(lease) });
      });
    documents.on(QueryCommand).resolves({ Items: [] });
    const other = { ...draft, shipmentId: `${draft.orderId}-A2` };
    const otherPk = `ORDER#${draft.orderId}#${other.shipmentId}`;
    documents.on(BatchGetCommand).resolves({
      Responses: {
        Invoices: [
          { pk: otherPk, year: 2026 },
          { pk: leasePk, expiresAt: Date.now() + 5_000 },
        ],
      },
    });
    const invoices = new InvoicesRepository('Invoices');
    const [first, second] = await Promise.allSettled([
      invoices.issue(draft, 2026, { waitMs: 5_000 }),
      invoices.issue(other, 2026, { waitMs: 300 }),
    ]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { invoiceNumber: 'INV-2026-000002' } });
    expect(second).toMatchObject({ status: 'rejected', reason: expect.any(InvoiceNumberPending) });
    expect(numberings()).toHaveLength(1);
  });

  it('an index behind the table still showing a committed batch: the next batch leaves those requests out', async () => {
    documents.on(TransactWriteCommand).resolves({});
    documents.on(UpdateCommand).resolves({ Attributes: { pk: leasePk } });
    documents.on(GetCommand).resolves({});
    // 25 older requests of other orders, shown by every query (the index never catches up here).
    const others = Array.from({ length: 25 }, (_, i) => {
      const orderId = `ord-${String(100 + i).padStart(26, '0')}`;
      return {
        pk: `ORDER#${orderId}#${orderId}-A1`,
        requestId: `${orderId}#${orderId}-A1`,
        orderId,
        year: 2026,
        draft,
      };
    });
    documents.on(QueryCommand).resolves({ Items: others });
    const invoice = await new InvoicesRepository('Invoices').issue(draft, 2026, { waitMs: 5_000 });
    // 24, then the 25th and ours: nothing numbered twice, and the second batch is the last (the lease let go).
    expect(numberings().map((update) => update?.ExpressionAttributeValues?.[':last'])).toEqual([24, 26]);
    expect(numberings()[1]?.ExpressionAttributeValues?.[':expires']).toBe(0);
    expect(invoice.invoiceNumber).toBe('INV-2026-000026');
  });

  it("lets the lease go although an earlier holder's batch holds it for a moment (TransactionConflict), not leaving it to expire", async () => {
    // A retry (its request recorded before): the index shows nothing to number, so the round ends without a batch.
    documents.on(TransactWriteCommand).rejects(requested());
    documents.on(GetCommand).resolves({});
    documents.on(GetCommand, { Key: { pk: requestPk } }).resolves({ Item: { pk: requestPk, year: 2026 } });
    // After its round, another call holds the lease: no second round of this one lets it go again.
    const taken = { pk: leasePk, owner: 'another-call', expiresAt: Date.now() + 60_000 };
    documents
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { Invoices: [{ pk: requestPk, year: 2026 }] } })
      .resolves({ Responses: { Invoices: [{ pk: requestPk, year: 2026 }, taken] } });
    documents.on(QueryCommand).resolves({ Items: [] });
    const releases: unknown[] = [];
    documents.on(UpdateCommand).callsFake((input: { UpdateExpression: string }) => {
      if (!input.UpdateExpression.startsWith('SET expiresAt = :zero')) return { Attributes: { pk: leasePk } };
      releases.push(input);
      if (releases.length === 1)
        throw new TransactionConflictException({ message: 'ongoing transaction', $metadata: {} });
      return {};
    });
    await expect(new InvoicesRepository('Invoices').issue(draft, 2026, { waitMs: 100 })).rejects.toBeInstanceOf(
      InvoiceNumberPending,
    );
    expect(releases).toHaveLength(2); // refused once, then let go
  });

  it("a retry whose order was closed meanwhile gets the invoice it was given, also when only the order's refusal is reported", async () => {
    documents.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
      }),
    );
    const request = { pk: requestPk, orderId: draft.orderId, year: 2026, invoiceNumber: 'INV-2026-000002' };
    const stored = { pk: 'INVOICE#INV-2026-000002', ...draft, invoiceNumber: 'INV-2026-000002' };
    documents.on(GetCommand, { Key: { pk: requestPk } }).resolves({ Item: request });
    documents.on(GetCommand, { Key: { pk: stored.pk } }).resolves({ Item: stored });
    documents.on(BatchGetCommand).resolves({ Responses: { Invoices: [request] } });
    const invoice = await new InvoicesRepository('Invoices').issue(draft, 2026, { waitMs: 5_000 });
    expect(invoice).toEqual({ ...draft, invoiceNumber: 'INV-2026-000002' });
    // A shipment that never asked before is refused at once.
    documents.on(GetCommand, { Key: { pk: requestPk } }).resolves({});
    await expect(new InvoicesRepository('Invoices').issue(draft, 2026, { waitMs: 5_000 })).rejects.toBeInstanceOf(
      InvoiceWithdrawn,
    );
  });
});

describe('InvoicesRepository.withdraw', () => {
  it('marks the order, withdraws its requests not numbered yet, and reports the numbers of those that were', async () => {
    const marker = { pk: `ORDER#${draft.orderId}`, requests: new Set([draft.shipmentId]), withdrawn: true };
    let numbered = false;
    documents.on(UpdateCommand).callsFake((input: { Key: { pk: string } }) => {
      if (input.Key.pk === marker.pk) return { Attributes: marker };
      if (numbered) throw exists();
      return {};
    });
    documents.on(GetCommand).resolves({ Item: { pk: requestPk, invoiceNumber: 'INV-2026-000007' } });
    const invoices = new InvoicesRepository('Invoices');
    expect(await invoices.withdraw(draft.orderId)).toEqual({ invoiceNumbers: [] });
    const [mark, request] = documents.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(mark?.UpdateExpression).toBe('SET withdrawn = :true');
    expect(request?.Key).toEqual({ pk: requestPk });
    expect(request?.ConditionExpression).toBe('attribute_not_exists(invoiceNumber)');
    expect(request?.UpdateExpression).toContain('REMOVE pendingYear');
    numbered = true;
    expect(await invoices.withdraw(draft.orderId)).toEqual({ invoiceNumbers: ['INV-2026-000007'] });
  });
});
