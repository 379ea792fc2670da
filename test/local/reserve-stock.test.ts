import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../support/lambda-events.ts';
import { type LocalTables, startTables } from '../support/tables.ts';

/**
 * ReserveStock against DynamoDB Local (the bus mocked): what it answers the workflow comes from what its
 * reservation wrote, without reading the order back; a repeat reads what the first attempt wrote.
 */
const bus = mockClient(EventBridgeClient);
let tables: LocalTables;
let handler: (event: unknown, context: Context) => Promise<Record<string, unknown>>;
const saved = { ...process.env };

beforeAll(async () => {
  tables = await startTables();
  Object.assign(process.env, {
    ORDERS_TABLE_NAME: tables.names.orders,
    STOCK_TABLE_NAME: tables.names.stock,
    EVENT_BUS_NAME: 'Bus',
    BACKORDER_DAYS: '14',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  handler = (await import('../../functions/reserve-stock/handler.ts')).handler as never;
}, 120_000);

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  process.env = saved;
  await tables?.stop();
});

async function seed(orderId: string, sku: string, quantity: number, onHand: number) {
  await tables.db.send(
    new PutCommand({
      TableName: tables.names.stock,
      Item: { sku, warehouseId: 'WH-BERLIN', onHand, reserved: 0, available: onHand },
    }),
  );
  await tables.db.send(
    new PutCommand({
      TableName: tables.names.orders,
      Item: {
        orderId,
        sk: 'ORDER',
        customerId: 'CUST-1001',
        status: 'VALIDATED',
        channel: 'web',
        currency: 'EUR',
        totals: { total: 1190 * quantity },
        lines: [{ sku, quantity, unitPrice: 1000 }],
        fulfilmentPolicy: 'ship_available',
        stages: { OrderReceived: '2026-11-29T10:00:00.000Z' },
        createdAt: '2026-11-29T10:00:00.000Z',
        updatedAt: '2026-11-29T10:00:00.000Z',
      },
    }),
  );
}

describe('ReserveStock on DynamoDB Local', () => {
  it('answers the allocations and the backorder it wrote after one read of the order; a repeat answers the same', async () => {
    const orderId = 'ord-0000000000000000000000rs01';
    await seed(orderId, 'RESERVE-ONE', 5, 3);
    const sends = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
    const ordersQueries = () =>
      sends.mock.calls.filter(
        ([command]) => command instanceof QueryCommand && command.input.TableName === tables.names.orders,
      ).length;
    const first = await handler({ orderId }, lambdaContext as unknown as Context);
    expect(ordersQueries()).toBe(1);
    expect(first).toMatchObject({ backordered: true, allocations: [{ allocationId: 'A1' }] });
    const fortnight = 14 * 86_400;
    expect(first.backorderSeconds).toBeGreaterThan(fortnight - 60);
    expect(first.backorderSeconds).toBeLessThanOrEqual(fortnight);

    // The task again (its answer was lost): the reservation stands, read back from the order.
    const again = await handler({ orderId }, lambdaContext as unknown as Context);
    expect(again).toMatchObject({ backordered: true, allocations: [{ allocationId: 'A1' }] });
    expect(Math.abs(Number(again.backorderSeconds) - Number(first.backorderSeconds))).toBeLessThan(60);
  });

  it('an order served in full: no backorder, one allocation to ship', async () => {
    const orderId = 'ord-0000000000000000000000rs02';
    await seed(orderId, 'RESERVE-TWO', 2, 10);
    expect(await handler({ orderId }, lambdaContext as unknown as Context)).toEqual({
      backordered: false,
      allocations: [{ allocationId: 'A1' }],
      backorderSeconds: 1,
    });
  });
});
