import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CreditLedger } from '../../functions/adapters/customers-repository.ts';
import { OrdersRepository } from '../../functions/adapters/orders-repository.ts';
import { type LocalTables, startTables } from '../support/tables.ts';

/**
 * Giving an order's credit hold back (CompleteOrder, CloseOrder, compensation) against DynamoDB Local:
 * the conditional write that marks the order released answers the hold when it is refused
 * (ReturnValuesOnConditionCheckFailure), which only the real service shows.
 */
let t: LocalTables;
let ledger: CreditLedger;
const saved = { ...process.env };
const CUSTOMER = 'CUST-CREDIT-RELEASE';

beforeAll(async () => {
  t = await startTables();
  ledger = new CreditLedger(t.names.customers, new OrdersRepository(t.names.orders));
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  process.env = saved;
  await t?.stop();
});

const order = async (orderId: string) =>
  (await t.db.send(new GetCommand({ TableName: t.names.orders, Key: { orderId, sk: 'ORDER' }, ConsistentRead: true })))
    .Item;
const creditUsed = async () =>
  (
    await t.db.send(
      new GetCommand({ TableName: t.names.customers, Key: { customerId: CUSTOMER }, ConsistentRead: true }),
    )
  ).Item?.creditUsed;
async function seed(orderId: string, hold?: number) {
  await t.db.send(
    new PutCommand({
      TableName: t.names.orders,
      Item: { orderId, sk: 'ORDER', customerId: CUSTOMER, ...(hold === undefined ? {} : { creditHold: hold }) },
    }),
  );
  await t.db.send(
    new PutCommand({ TableName: t.names.customers, Item: { customerId: CUSTOMER, creditUsed: hold ?? 0 } }),
  );
}
const commandsOf = (sends: { mock: { calls: unknown[][] } }) =>
  sends.mock.calls.map(([command]) => (command as object).constructor.name);

describe('releasing an order’s credit on DynamoDB Local', () => {
  it('marks an order that holds nothing (a card order) released in one write; a late hold is then refused', async () => {
    const orderId = 'ord-credit-release-none';
    await seed(orderId);
    const sends = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
    expect(await ledger.release(orderId)).toBe(false);
    expect(commandsOf(sends)).toEqual(['UpdateCommand']);
    expect(await order(orderId)).toMatchObject({ creditReleased: true });
    vi.restoreAllMocks();

    await ledger.hold(orderId, { customerId: CUSTOMER } as never, 100, 1_000);
    expect((await order(orderId))?.creditHold).toBeUndefined();
    expect(await creditUsed()).toBe(0);
  });

  it('gives a hold back with the refused write and one transaction, nothing read', async () => {
    const orderId = 'ord-credit-release-held';
    await seed(orderId, 500);
    const sends = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
    expect(await ledger.release(orderId)).toBe(true);
    expect(commandsOf(sends)).toEqual(['UpdateCommand', 'TransactWriteCommand']);
    const stored = await order(orderId);
    expect([stored?.creditHold, stored?.creditReleased, await creditUsed()]).toEqual([undefined, true, 0]);
    // Again: nothing held, nothing given back twice.
    expect(await ledger.release(orderId)).toBe(false);
    expect(await creditUsed()).toBe(0);
  });

  it('gives back what is left when an invoice took part of the hold between the write and the transaction', async () => {
    const orderId = 'ord-credit-release-raced';
    await seed(orderId, 500);
    const send = DynamoDBDocumentClient.prototype.send;
    let raced = false;
    vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(async function (
      this: DynamoDBDocumentClient,
      ...args: Parameters<typeof send>
    ) {
      if (!raced && args[0] instanceof TransactWriteCommand) {
        raced = true;
        // As invoicing's creditHoldInvoicedItem: the invoice's open balance takes 200 of the hold over.
        await t.db.send(
          new UpdateCommand({
            TableName: t.names.orders,
            Key: { orderId, sk: 'ORDER' },
            UpdateExpression: 'SET creditHold = creditHold - :amount',
            ExpressionAttributeValues: { ':amount': 200 },
          }),
        );
      }
      return send.apply(this, args);
    } as typeof send);
    expect(await ledger.release(orderId)).toBe(true);
    expect(raced).toBe(true);
    const stored = await order(orderId);
    // The 300 left is given back; the 200 invoiced stays in use until the invoice is paid.
    expect([stored?.creditHold, stored?.creditReleased, await creditUsed()]).toEqual([undefined, true, 200]);
  });

  it('stops after a few tries when the hold changes under every one, and says so', async () => {
    const orderId = 'ord-credit-release-churned';
    await seed(orderId, 500);
    const send = DynamoDBDocumentClient.prototype.send;
    let invoiced = 0;
    vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(async function (
      this: DynamoDBDocumentClient,
      ...args: Parameters<typeof send>
    ) {
      if (args[0] instanceof TransactWriteCommand) {
        invoiced += 1;
        await send.apply(this, [
          new UpdateCommand({
            TableName: t.names.orders,
            Key: { orderId, sk: 'ORDER' },
            UpdateExpression: 'SET creditHold = creditHold - :amount',
            ExpressionAttributeValues: { ':amount': 10 },
          }),
        ] as unknown as Parameters<typeof send>);
      }
      return send.apply(this, args);
    } as typeof send);
    await expect(ledger.release(orderId)).rejects.toThrow('changed on each of 5 tries');
    expect(invoiced).toBe(5);
    // Nothing half-written: the hold that is left is still held and still in use.
    expect([(await order(orderId))?.creditHold, await creditUsed()]).toEqual([450, 500]);
  });

  it('answers false for an order that does not exist, and writes nothing', async () => {
    const orderId = 'ord-credit-release-missing';
    expect(await ledger.release(orderId)).toBe(false);
    expect(await order(orderId)).toBeUndefined();
  });
});
