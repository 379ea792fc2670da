import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CreditLedger, CustomersRepository } from '../../functions/adapters/customers-repository.ts';
import { InvoicesRepository } from '../../functions/adapters/invoices-repository.ts';
import { OrdersRepository } from '../../functions/adapters/orders-repository.ts';
import { InvoiceWithdrawn } from '../../functions/core/errors.ts';
import { SELLER } from '../../functions/core/seller.ts';
import { invoiceSettlement } from '../../functions/lib/invoice-settlement.ts';
import { eventually } from '../support/runtime.ts';
import { type LocalTables, startTables } from '../support/tables.ts';

/**
 * Gap-free numbering against DynamoDB Local (its real transactions and conflicts), for what the mocks
 * cannot show: several shipments of one order asking for their invoices at the same moment.
 */
let t: LocalTables;
const saved = { ...process.env };

beforeAll(async () => {
  t = await startTables();
});

afterAll(async () => {
  process.env = saved;
  await t?.stop();
});

const db = () => t.db;
const get = async (TableName: string, Key: Record<string, string>) =>
  (await db().send(new GetCommand({ TableName, Key, ConsistentRead: true }))).Item;

const draft = (orderId: string, shipmentId: string, paymentMethod: 'card' | 'on_account' = 'card') => ({
  orderId,
  shipmentId,
  customerId: 'CUST-1002',
  customerName: 'Jane Doe',
  customerEmail: 'jane.doe@example.com',
  issuedAt: new Date().toISOString(),
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
  paymentMethod,
  seller: SELLER,
  dueDate: new Date().toISOString(),
  status: paymentMethod === 'card' ? ('paid' as const) : ('open' as const),
  amountPaid: paymentMethod === 'card' ? 1190 : 0,
  amountCredited: 0,
});

/** What `run` answered, and the commands it sent to DynamoDB, by name. */
async function commandsOf<T>(run: () => Promise<T>): Promise<{ value: T; commands: string[] }> {
  const sends = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
  try {
    const value = await run();
    return { value, commands: sends.mock.calls.map(([command]) => command.constructor.name) };
  } finally {
    sends.mockRestore();
  }
}

describe('invoice numbering on DynamoDB Local', () => {
  it('numbers the invoices of two shipments of one order requested at once: both, consecutive', async () => {
    const orderId = 'ord-00000000000000000000000042';
    // Separate repositories, as two Lambda environments (each call is a lease owner of its own either way).
    const issued = await Promise.all(
      ['A1', 'A2'].map((allocation) =>
        new InvoicesRepository(t.names.invoices).issue(draft(orderId, `${orderId}-${allocation}`), 2031, {
          waitMs: 5_000,
        }),
      ),
    );
    const numbers = issued.map((invoice) => Number(invoice.invoiceNumber.slice(-6))).sort((a, b) => a - b);
    expect(numbers).toEqual([1, 2]);
    expect(new Set(issued.map((invoice) => invoice.shipmentId))).toEqual(new Set([`${orderId}-A1`, `${orderId}-A2`]));
    expect((await get(t.names.invoices, { pk: 'COUNTER#2031' }))?.last).toBe(2);
  });

  it('numbers two on-account shipments of one order in one batch, the order and the customer written once each', async () => {
    const orderId = 'ord-00000000000000000000000043';
    await db().send(new PutCommand({ TableName: t.names.orders, Item: { orderId, sk: 'ORDER', creditHold: 2380 } }));
    await db().send(
      new PutCommand({
        TableName: t.names.customers,
        Item: { customerId: 'CUST-1002', openBalance: 0, creditUsed: 2380 },
      }),
    );
    // Both requests are pending before anyone numbers (a holder of the lease came back from a pause).
    await db().send(
      new PutCommand({
        TableName: t.names.invoices,
        Item: { pk: 'LEASE#2032', owner: 'paused', expiresAt: Date.now() + 1_500 },
      }),
    );
    const settle = invoiceSettlement(
      new CreditLedger(t.names.customers, new OrdersRepository(t.names.orders)),
      new CustomersRepository(t.names.customers),
    );
    const issued = await Promise.all(
      ['A1', 'A2'].map((allocation) =>
        new InvoicesRepository(t.names.invoices).issue(draft(orderId, `${orderId}-${allocation}`, 'on_account'), 2032, {
          settle,
          waitMs: 8_000,
        }),
      ),
    );
    expect(issued.map((invoice) => invoice.invoiceNumber).sort()).toEqual(['INV-2032-000001', 'INV-2032-000002']);
    expect((await get(t.names.orders, { orderId, sk: 'ORDER' }))?.creditHold).toBe(0);
    expect(await get(t.names.customers, { customerId: 'CUST-1002' })).toEqual(
      expect.objectContaining({ openBalance: 2380, creditUsed: 2380 }),
    );
  });

  it('answers an invoice its own round numbered as the batch wrote it: no pause, no reading it back', async () => {
    const orderId = 'ord-00000000000000000000000044';
    const invoices = new InvoicesRepository(t.names.invoices);
    const issued = await commandsOf(() => invoices.issue(draft(orderId, `${orderId}-A1`), 2033, { waitMs: 5_000 }));
    expect(issued.commands).toEqual([
      'TransactWriteCommand', // the request, in its order's list (a retry finds it there)
      'UpdateCommand', // the year's lease taken at once: a request just recorded is not numbered yet
      'GetCommand', // the year's counter: the lease is new, it knows no last number yet
      'QueryCommand', // the pending requests: ours only
      'TransactWriteCommand', // numbered with the counter; all that was pending, so the lease is let go with it
    ]);
    expect(issued.value.invoiceNumber).toBe('INV-2033-000001');
    // What a retry reads back is what the round answered: a paid invoice, an open one (stored with its
    // index of open invoices) and a credit note (stored with its place among the notes to finish).
    expect(await invoices.findForShipment(orderId, `${orderId}-A1`)).toEqual(issued.value);
    // The next holder takes the last number from the lease, not from the counter.
    const second = await commandsOf(() =>
      invoices.issue(draft(orderId, `${orderId}-A2`, 'on_account'), 2033, { waitMs: 5_000 }),
    );
    expect(second.commands).toEqual(['TransactWriteCommand', 'UpdateCommand', 'QueryCommand', 'TransactWriteCommand']);
    const open = second.value;
    expect(open.invoiceNumber).toBe('INV-2033-000002');
    expect(await get(t.names.invoices, { pk: 'LEASE#2033' })).toMatchObject({ last: 2, expiresAt: 0 });
    expect((await get(t.names.invoices, { pk: `INVOICE#${open.invoiceNumber}` }))?.openYear).toBeDefined();
    expect(await invoices.findForShipment(orderId, `${orderId}-A2`)).toEqual(open);
    const requestId = `${open.invoiceNumber}#refund-1`;
    const note = await invoices.number<Record<string, unknown>>(
      'CN',
      requestId,
      { requestId, invoiceNumber: open.invoiceNumber, orderId, reason: 'damaged', amount: 1190 },
      2033,
      { waitMs: 5_000 },
    );
    expect(note.creditNoteNumber).toBe('CN-2033-000001');
    expect((await get(t.names.invoices, { pk: 'CREDITNOTE#CN-2033-000001' }))?.pendingYear).toBeDefined();
    expect(await invoices.findCreditNote('CN-2033-000001')).toEqual(note);
  });

  it('numbers 40 requests made at once, each by a function of its own: 1 to 40, in batches, the lease then free', async () => {
    const orderId = (n: number) => `ord-${String(4500 + n).padStart(26, '0')}`;
    const issued = await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        new InvoicesRepository(t.names.invoices).issue(draft(orderId(n), `${orderId(n)}-A1`), 2034, {
          waitMs: 20_000,
        }),
      ),
    );
    const numbers = issued.map((invoice) => Number(invoice.invoiceNumber.slice(-6))).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 40 }, (_, n) => n + 1));
    expect((await get(t.names.invoices, { pk: 'COUNTER#2034' }))?.last).toBe(40);
    expect(await get(t.names.invoices, { pk: 'LEASE#2034' })).toMatchObject({ last: 40, expiresAt: 0 });
  });

  it('a request recorded while the holder numbers its last batch is numbered by its own caller: nothing waits for a lease nobody holds', async () => {
    const first = 'ord-00000000000000000000004601';
    const second = 'ord-00000000000000000000004602';
    const original = DynamoDBDocumentClient.prototype.send;
    let later: Promise<{ invoiceNumber: string }> | undefined;
    const sends = vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(async function (
      this: DynamoDBDocumentClient,
      ...args: Parameters<DynamoDBDocumentClient['send']>
    ) {
      const [command] = args;
      const numbering =
        command instanceof TransactWriteCommand &&
        command.input.TransactItems?.some((item) => item.Update?.Key?.pk === 'LEASE#2038');
      if (numbering && !later) {
        // The holder queried the pending requests (its own only) and is about to number them: a second one is recorded
        // now. It waits less than a lease lasts: it is numbered only if the holder's last batch let the lease go.
        later = new InvoicesRepository(t.names.invoices).issue(draft(second, `${second}-A1`), 2038, { waitMs: 3_000 });
        await eventually(
          async () => (await get(t.names.invoices, { pk: `ORDER#${second}#${second}-A1` })) ?? undefined,
        );
      }
      return (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    } as never);
    try {
      const held = await new InvoicesRepository(t.names.invoices).issue(draft(first, `${first}-A1`), 2038, {
        waitMs: 10_000,
      });
      expect(held.invoiceNumber).toBe('INV-2038-000001');
      expect((await later)?.invoiceNumber).toBe('INV-2038-000002');
      // Two numbering transactions, each by its own caller: the holder did not look for more after its last batch.
      const holders = sends.mock.calls
        .map(([command]) => command)
        .filter((command) => command instanceof TransactWriteCommand)
        .map((command) => command.input.TransactItems?.find((item) => item.Update?.Key?.pk === 'LEASE#2038'))
        .map((item) => item?.Update?.ExpressionAttributeValues?.[':me'])
        .filter((owner) => owner !== undefined);
      expect(holders).toHaveLength(2);
      expect(new Set(holders).size).toBe(2);
    } finally {
      sends.mockRestore();
    }
    expect((await get(t.names.invoices, { pk: 'COUNTER#2038' }))?.last).toBe(2);
  });

  it('a lease without the last number, or with an older one than the counter, costs a read of the counter: no gap, no duplicate', async () => {
    // As leases written before they carried the number, and a counter moved on since.
    await db().send(new PutCommand({ TableName: t.names.invoices, Item: { pk: 'COUNTER#2035', last: 7 } }));
    await db().send(
      new PutCommand({ TableName: t.names.invoices, Item: { pk: 'LEASE#2035', owner: 'old', expiresAt: 0, last: 5 } }),
    );
    await db().send(new PutCommand({ TableName: t.names.invoices, Item: { pk: 'COUNTER#2036', last: 3 } }));
    await db().send(
      new PutCommand({ TableName: t.names.invoices, Item: { pk: 'LEASE#2036', owner: 'old', expiresAt: 0 } }),
    );
    const orderId = 'ord-00000000000000000000004700';
    const invoices = new InvoicesRepository(t.names.invoices);
    const older = await invoices.issue(draft(orderId, `${orderId}-A1`), 2035, { waitMs: 5_000 });
    const without = await commandsOf(() => invoices.issue(draft(orderId, `${orderId}-A2`), 2036, { waitMs: 5_000 }));
    expect(without.commands).toContain('GetCommand'); // the counter, read as a lease without a number cannot say
    expect([older.invoiceNumber, without.value.invoiceNumber]).toEqual(['INV-2035-000008', 'INV-2036-000004']);
    expect((await get(t.names.invoices, { pk: 'COUNTER#2035' }))?.last).toBe(8);
    expect((await get(t.names.invoices, { pk: 'LEASE#2036' }))?.last).toBe(4);
  });

  it('a retry after the order was closed gets the invoice it was given; a shipment asking only now is refused', async () => {
    const orderId = 'ord-00000000000000000000004800';
    const invoices = new InvoicesRepository(t.names.invoices);
    const issued = await invoices.issue(draft(orderId, `${orderId}-A1`), 2037, { waitMs: 5_000 });
    expect(await invoices.withdraw(orderId)).toEqual({ invoiceNumbers: [issued.invoiceNumber] });
    expect(await invoices.issue(draft(orderId, `${orderId}-A1`), 2037, { waitMs: 5_000 })).toEqual(issued);
    await expect(invoices.issue(draft(orderId, `${orderId}-A2`), 2037, { waitMs: 5_000 })).rejects.toBeInstanceOf(
      InvoiceWithdrawn,
    );
    expect((await get(t.names.invoices, { pk: 'COUNTER#2037' }))?.last).toBe(1);
  });
});
