import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CreditLedger, CustomersRepository } from '../../functions/adapters/customers-repository.ts';
import { InvoicesRepository } from '../../functions/adapters/invoices-repository.ts';
import { OrdersRepository } from '../../functions/adapters/orders-repository.ts';
import { SELLER } from '../../functions/core/seller.ts';
import { invoiceSettlement } from '../../functions/lib/invoice-settlement.ts';
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

describe('invoice numbering on DynamoDB Local', () => {
  it('numbers the invoices of two shipments of one order requested at once: both, consecutive', async () => {
    const orderId = 'ord-00000000000000000000000042';
    // Separate repositories, as two Lambda instances: neither holds the other's lease.
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
    const sends = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
    let issued: Awaited<ReturnType<InvoicesRepository['issue']>>;
    try {
      issued = await invoices.issue(draft(orderId, `${orderId}-A1`), 2033, { waitMs: 5_000 });
      expect(sends.mock.calls.map(([command]) => command.constructor.name)).toEqual([
        'GetCommand', // numbered already? (a retry)
        'TransactWriteCommand', // the request, in its order's list
        'BatchGetCommand', // the request and the year's lease
        'PutCommand', // the lease taken
        'GetCommand', // the year's counter
        'QueryCommand', // the pending requests: ours
        'TransactWriteCommand', // numbered with the counter
        'QueryCommand', // nothing more pending
        'UpdateCommand', // the lease let go (and no pause, BatchGet and Get after it: the round's answer is ours)
      ]);
    } finally {
      sends.mockRestore();
    }
    expect(issued.invoiceNumber).toBe('INV-2033-000001');
    // What a retry reads back is what the round answered: a paid invoice, an open one (stored with its
    // index of open invoices) and a credit note (stored with its place among the notes to finish).
    expect(await invoices.findForShipment(orderId, `${orderId}-A1`)).toEqual(issued);
    const open = await invoices.issue(draft(orderId, `${orderId}-A2`, 'on_account'), 2033, { waitMs: 5_000 });
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
});
