import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { metrics } from '../../functions/lib/metrics.ts';
import { logger } from '../../functions/lib/powertools.ts';

/**
 * The reconciler against mocked AWS clients: what it publishes when EventBridge fails once, and the
 * alarmed metric it emits for an order left charged without an invoice.
 */
const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  ORDERS_TABLE_NAME: 'Orders',
  PRODUCTS_TABLE_NAME: 'Products',
  STOCK_TABLE_NAME: 'Stock',
  CUSTOMERS_TABLE_NAME: 'Customers',
  INVOICES_TABLE_NAME: 'Invoices',
  APPROVALS_TABLE_NAME: 'Approvals',
  EVENT_BUS_NAME: 'Bus',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:orders',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
});

const ORDER_ID = 'ord-0000000000000000000000000r';
const context = { functionName: 'ReconcileOrders', awsRequestId: 'r', getRemainingTimeInMillis: () => 60_000 };
const aborted = {
  version: '0',
  id: 'e',
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  detail: { name: ORDER_ID, status: 'ABORTED' },
};
let reconcile: (event: unknown, context: Context) => Promise<{ outcome: string }>;

function storeOrder(
  fields: Record<string, unknown>,
  shipments: Record<string, unknown>[] = [],
  closing = '2026-01-01T00:00:00.000Z', // fenced long ago
) {
  const order = {
    orderId: ORDER_ID,
    sk: 'ORDER',
    status: 'SHIPPED',
    channel: 'web',
    customerId: 'CUST-1002',
    currency: 'EUR',
    requestedLines: [],
    shippingAddress: { name: 'n', line1: 'l', city: 'c', postalCode: 'p', country: 'DE' },
    payment: { method: 'card', token: 'tok_visa' },
    stages: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
  const items = [order, ...shipments.map((s) => ({ orderId: ORDER_ID, sk: `SHIPMENT#${s.shipmentId}`, ...s }))];
  // The open-orders index lists the order once; the order's own query answers all its items.
  documents
    .on(QueryCommand)
    .callsFake((input: { IndexName?: string }) =>
      input.IndexName === 'openOrders'
        ? { Items: [{ orderId: ORDER_ID }] }
        : input.IndexName === 'unpublishedFeedback'
          ? { Items: [] }
          : { Items: items },
    );
  documents.on(UpdateCommand).resolves({ Attributes: { ...order, closing, reconcileAttempts: 1 } });
  documents.on(GetCommand).callsFake((input: { Key: { sk: string } }) => ({
    Item: input.Key.sk === 'ORDER' ? order : { orderId: ORDER_ID, sk: 'RESERVATION', lines: [], status: 'SHIPPED' },
  }));
  documents.on(PutCommand).resolves({});
  documents.on(TransactWriteCommand).resolves({});
}

const published = () =>
  events.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.[0]?.DetailType as string);

beforeAll(async () => {
  reconcile = (await import('../../functions/reconcile-orders/handler.ts')).handler as never;
});

beforeEach(() => {
  documents.reset();
  events.reset();
  vi.restoreAllMocks();
});

describe('reconciler', () => {
  it('retries a compensation event whose publish failed, instead of leaving the step to ops', async () => {
    storeOrder(
      { paymentRecord: { method: 'card', status: 'AUTHORIZED', idempotencyKey: `${ORDER_ID}:authorize`, amount: 100 } },
      [{ shipmentId: `${ORDER_ID}-1`, carrier: 'SANDBOX', trackingNumber: 'T', status: 'IN_TRANSIT' }],
    );
    events
      .on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('Service unavailable'), { name: 'InternalException' }))
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    expect(await reconcile(aborted, context as unknown as Context)).toEqual({ outcome: 'closed' });
    expect(published().filter((type) => type === 'OrderPaymentVoided')).toHaveLength(2); // failed, then sent
    expect(published()).toContain('OrderFailed');
    const failed = documents
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input.ExpressionAttributeValues ?? {})
      .find((values) => values[':newStatus'] === 'FAILED');
    const failure = Object.values(failed ?? {}).find((v) => (v as { code?: string })?.code === 'WorkflowInterrupted');
    expect(failure).toEqual(expect.not.objectContaining({ compensationFailed: expect.anything() }));
  });

  it('emits the alarmed OrderNotSettled metric for an order stopped after capture, never CompensationFailed', async () => {
    storeOrder(
      { paymentRecord: { method: 'card', status: 'CAPTURED', idempotencyKey: `${ORDER_ID}:authorize`, amount: 100 } },
      [{ shipmentId: `${ORDER_ID}-1`, carrier: 'SANDBOX', trackingNumber: 'T', status: 'DELIVERED' }],
    );
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const added = vi.spyOn(metrics, 'addMetric');
    expect(await reconcile(aborted, context as unknown as Context)).toEqual({ outcome: 'closed' });
    expect(added.mock.calls.map(([name]) => name)).toEqual(['OrderNotSettled']);
  });

  it('leaves a delivered order without its invoice open for a while: a task of the stopped execution may still issue it', async () => {
    const justNow = new Date().toISOString();
    storeOrder(
      {
        paymentRecord: { method: 'card', status: 'CAPTURED', idempotencyKey: `${ORDER_ID}:authorize`, amount: 100 },
        stages: { OrderDelivered: justNow },
      },
      [{ shipmentId: `${ORDER_ID}-1`, carrier: 'SANDBOX', trackingNumber: 'T', status: 'DELIVERED' }],
      justNow,
    );
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    await expect(reconcile(aborted, context as unknown as Context)).rejects.toMatchObject({
      name: 'InvoiceMayBeInFlight',
    });
    expect(published()).not.toContain('OrderFailed');
    // Nothing compensated yet: its invoice request is not withdrawn, no credit or stock moved, no void.
    const tables = documents.commandCalls(UpdateCommand).map((call) => call.args[0].input.TableName);
    expect(tables).not.toContain('Invoices');
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(published()).not.toContain('OrderPaymentVoided');
  });

  it('keeps the credit hold of a delivered on-account order while its invoice may still be issued', async () => {
    const justNow = new Date().toISOString();
    storeOrder(
      {
        payment: { method: 'on_account' },
        paymentRecord: { method: 'on_account', status: 'ON_ACCOUNT', amount: 100 },
        creditHold: 100,
        stages: { OrderDelivered: justNow },
      },
      [{ shipmentId: `${ORDER_ID}-1`, carrier: 'SANDBOX', trackingNumber: 'T', status: 'DELIVERED' }],
      justNow,
    );
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    await expect(reconcile(aborted, context as unknown as Context)).rejects.toMatchObject({
      name: 'InvoiceMayBeInFlight',
    });
    // Giving the hold back now would let the invoice, issued a moment later, owe what credit no longer counts.
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(documents.commandCalls(UpdateCommand).map((call) => call.args[0].input.TableName)).not.toContain('Invoices');
  });

  it('the sweep resumes a filled backorder whose resume was lost, also after a first shipment', async () => {
    sfn.reset();
    storeOrder({
      status: 'DELIVERED',
      fulfilmentPolicy: 'ship_available',
      allocations: [
        {
          allocationId: 'A1',
          warehouseId: 'WH-BERLIN',
          lines: [{ sku: 'CABLE-USB-C', quantity: 1 }],
          at: '2026-01-01T00:00:00.000Z',
        },
        {
          allocationId: 'A2',
          warehouseId: 'WH-BERLIN',
          lines: [{ sku: 'KEYBOARD-MX', quantity: 2 }],
          at: '2026-01-02T00:00:00.000Z',
        },
      ],
      backorder: {
        lines: [],
        since: '2026-01-01T00:00:00.000Z',
        expiresAt: '2026-01-15T00:00:00.000Z',
        taskToken: 'token-of-await-backorder',
      },
    });
    documents.on(ScanCommand).resolves({ Items: [] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sfn.on(SendTaskSuccessCommand).resolves({});
    const sweep = { 'detail-type': 'Scheduled Event', source: 'aws.events', id: 's', detail: {} };
    await reconcile(sweep, context as unknown as Context);
    const resumed = sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input.taskToken);
    expect(resumed).toEqual(['token-of-await-backorder']);
  });
});

describe('overdue deliveries', () => {
  const sweepEvent = { 'detail-type': 'Scheduled Event', source: 'aws.events', id: 's', detail: {} };
  const countOf = (added: { mock: { calls: unknown[][] } }) =>
    added.mock.calls.filter(([name]) => name === 'DeliveriesOverdue').map(([, , value]) => value);

  it('the sweep counts an order shipped longer ago than the SLA and still in transit, and logs its id', async () => {
    sfn.reset();
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000).toISOString();
    storeOrder({ stages: { OrderShipped: eightDaysAgo } }, [
      { shipmentId: `${ORDER_ID}-1`, carrier: 'SANDBOX', trackingNumber: 'T', status: 'IN_TRANSIT' },
    ]);
    documents.on(ScanCommand).resolves({ Items: [] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const added = vi.spyOn(metrics, 'addMetric');
    const warned = vi.spyOn(logger, 'warn');
    const result = (await reconcile(sweepEvent, context as unknown as Context)) as unknown as {
      deliveriesOverdue: number;
    };
    expect(result.deliveriesOverdue).toBe(1);
    expect(countOf(added)).toEqual([1]);
    expect(warned).toHaveBeenCalledWith('Delivery overdue', { orderId: ORDER_ID, shippedAt: eightDaysAgo });
  });

  it('reports zero for an order shipped within the SLA, so the alarm clears', async () => {
    sfn.reset();
    const sixDaysAgo = new Date(Date.now() - 6 * 86_400_000).toISOString();
    storeOrder({ stages: { OrderShipped: sixDaysAgo } }, [
      { shipmentId: `${ORDER_ID}-1`, carrier: 'SANDBOX', trackingNumber: 'T', status: 'IN_TRANSIT' },
    ]);
    documents.on(ScanCommand).resolves({ Items: [] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const added = vi.spyOn(metrics, 'addMetric');
    await reconcile(sweepEvent, context as unknown as Context);
    expect(countOf(added)).toEqual([0]);
  });
});

describe('survey answers left unpublished', () => {
  const sweepEvent = { 'detail-type': 'Scheduled Event', source: 'aws.events', id: 's', detail: {} };

  it('the sweep publishes the stored answer of the unpublished index, older than the grace period, and marks it', async () => {
    sfn.reset();
    const stored = { score: 2, group: 'detractor', comment: 'Never again', answeredAt: '2026-12-01T08:00:00.000Z' };
    documents
      .on(QueryCommand)
      .callsFake((input: { IndexName?: string; ExpressionAttributeValues: Record<string, string> }) =>
        input.IndexName === 'unpublishedFeedback'
          ? {
              Items: [
                {
                  orderId: ORDER_ID,
                  sk: 'ORDER',
                  customerId: 'CUST-1002',
                  createdAt: '2026-11-20T09:00:00.000Z',
                  feedback: stored,
                },
              ],
            }
          : { Items: [] },
      );
    documents.on(UpdateCommand).resolves({});
    documents.on(ScanCommand).resolves({ Items: [] });
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const before = Date.now();
    const result = (await reconcile(sweepEvent, context as unknown as Context)) as unknown as {
      feedbackPublished: number;
    };
    expect(result.feedbackPublished).toBe(1);
    const query = documents
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input)
      .find((input) => input.IndexName === 'unpublishedFeedback');
    expect(query?.KeyConditionExpression).toBe('feedbackUnpublished = :unpublished AND feedbackAnsweredAt < :cutoff');
    // Five minutes of grace: the answer's own request may still be publishing it.
    const cutoff = Date.parse(String(query?.ExpressionAttributeValues?.[':cutoff']));
    expect(cutoff).toBeGreaterThanOrEqual(before - 300_000);
    expect(cutoff).toBeLessThanOrEqual(Date.now() - 300_000);
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.DetailType).toBe('FeedbackReceived');
    expect(JSON.parse(entry?.Detail ?? '{}')).toEqual({
      version: 1,
      eventId: `feedback:${ORDER_ID}`,
      orderId: ORDER_ID,
      customerId: 'CUST-1002',
      occurredAt: stored.answeredAt,
      placedAt: '2026-11-20T09:00:00.000Z',
      score: 2,
      group: 'detractor',
    });
    expect(documents.commandCalls(UpdateCommand).map((call) => call.args[0].input.UpdateExpression)).toEqual([
      'SET feedback.publishedAt = :at REMOVE feedbackUnpublished, feedbackAnsweredAt',
    ]);
  });

  it('leaves an answer whose publish fails unmarked, for the next sweep', async () => {
    sfn.reset();
    const stored = { score: 10, group: 'promoter', answeredAt: '2026-12-01T08:00:00.000Z' };
    documents.on(QueryCommand).callsFake((input: { IndexName?: string }) =>
      input.IndexName === 'unpublishedFeedback'
        ? {
            Items: [
              {
                orderId: ORDER_ID,
                sk: 'ORDER',
                customerId: 'CUST-1002',
                createdAt: '2026-11-20T09:00:00.000Z',
                feedback: stored,
              },
            ],
          }
        : { Items: [] },
    );
    documents.on(ScanCommand).resolves({ Items: [] });
    events.on(PutEventsCommand).rejects(Object.assign(new Error('unavailable'), { name: 'InternalException' }));
    const result = (await reconcile(sweepEvent, context as unknown as Context)) as unknown as {
      feedbackPublished: number;
    };
    expect(result.feedbackPublished).toBe(0);
    expect(documents.commandCalls(UpdateCommand)).toHaveLength(0);
  });
  const storedAnswer = { score: 9, group: 'promoter', answeredAt: '2026-12-01T08:00:00.000Z' };
  const overdueCounts = (added: { mock: { calls: unknown[][] } }) =>
    added.mock.calls.filter(([name]) => name === 'DeliveriesOverdue').map(([, , value]) => value);

  it('publishes the answers also when the open-orders pass uses up the time', async () => {
    sfn.reset();
    storeOrder({ stages: {} });
    documents.on(QueryCommand).callsFake((input: { IndexName?: string }) =>
      input.IndexName === 'openOrders'
        ? { Items: [{ orderId: ORDER_ID }] }
        : input.IndexName === 'unpublishedFeedback'
          ? {
              Items: [
                {
                  orderId: ORDER_ID,
                  sk: 'ORDER',
                  customerId: 'CUST-1002',
                  createdAt: '2026-11-20T09:00:00.000Z',
                  feedback: storedAnswer,
                },
              ],
            }
          : { Items: [] },
    );
    documents.on(ScanCommand).resolves({ Items: [] });
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    // The open order takes all the time there was: nothing is left once it was looked at.
    let remaining = 60_000;
    sfn.on(DescribeExecutionCommand).callsFake(() => {
      remaining = 0;
      return { status: 'RUNNING' };
    });
    const starved = { ...context, getRemainingTimeInMillis: () => remaining };
    const result = (await reconcile(sweepEvent, starved as unknown as Context)) as unknown as {
      checked: number;
      feedbackPublished: number;
    };
    expect(result).toMatchObject({ checked: 1, feedbackPublished: 1 });
    expect(published()).toEqual(['FeedbackReceived']);
  });

  it('a failing read of the answers neither fails the sweep nor loses the DeliveriesOverdue metric', async () => {
    sfn.reset();
    storeOrder({ stages: {} });
    documents
      .on(QueryCommand)
      .callsFake((input: { IndexName?: string }) =>
        input.IndexName === 'unpublishedFeedback'
          ? Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
          : { Items: input.IndexName === 'openOrders' ? [{ orderId: ORDER_ID }] : [] },
      );
    documents.on(ScanCommand).resolves({ Items: [] });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const added = vi.spyOn(metrics, 'addMetric');
    const result = (await reconcile(sweepEvent, context as unknown as Context)) as unknown as {
      checked: number;
      feedbackPublished: number;
    };
    expect(result).toMatchObject({ checked: 1, feedbackPublished: 0 });
    expect(overdueCounts(added)).toEqual([0]);
  });

  it('emits DeliveriesOverdue also when the open-orders read fails the sweep', async () => {
    sfn.reset();
    documents
      .on(QueryCommand)
      .callsFake((input: { IndexName?: string }) =>
        input.IndexName === 'openOrders'
          ? Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }))
          : { Items: [] },
      );
    const added = vi.spyOn(metrics, 'addMetric');
    await expect(reconcile(sweepEvent, context as unknown as Context)).rejects.toThrow(/slow down/);
    expect(overdueCounts(added)).toEqual([0]);
  });
});
