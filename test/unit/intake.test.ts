import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_CUSTOMERS } from '../../local/seed.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';

const documents = mockClient(DynamoDBDocumentClient);
const dynamodb = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  ORDERS_TABLE_NAME: 'Orders',
  EVENT_BUS_NAME: 'Bus',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:orders',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});

const context = lambdaContext;
type Route = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let placeOrder: Route;

const order = {
  customerId: 'CUST-1002',
  currency: 'EUR',
  lines: [{ sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1250 }],
  shippingAddress: { name: 'Jane Doe', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  payment: { method: 'card', token: 'tok_visa' },
};
const post = (key: string) =>
  placeOrder(
    checkoutHttpEvent({
      routeKey: 'POST /orders',
      rawPath: '/orders',
      headers: { 'idempotency-key': key },
      body: JSON.stringify(order),
    }),
    context,
  );

beforeAll(async () => {
  placeOrder = (await import('../../functions/place-order/handler.ts')).handler as unknown as Route;
});

beforeEach(() => {
  documents.reset();
  dynamodb.reset();
  sfn.reset();
  events.reset();
  documents.on(PutCommand).resolves({});
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});

describe('intake', () => {
  it('accepts an order whose StartExecution failed: it is stored for good and the sweep starts it', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new SFNServiceException({ name: 'ServiceUnavailable', $fault: 'server', $metadata: {} }));
    const result = await post('intake-start-fails-1');
    expect(result.statusCode).toBe(202);
    expect(documents.commandCalls(PutCommand).some((call) => call.args[0].input.Item?.sk === 'ORDER')).toBe(true);
    expect(documents.commandCalls(DeleteCommand)).toHaveLength(0);
  });

  it('starts the workflow and announces the order at once: the caller waits for one round trip, not two', async () => {
    // StartExecution answers only once OrderReceived is on its way: one after the other would never end.
    let announced!: () => void;
    const publishing = new Promise<void>((resolve) => {
      announced = resolve;
    });
    events.on(PutEventsCommand).callsFake(async () => {
      announced();
      return { FailedEntryCount: 0, Entries: [{ EventId: '1' }] };
    });
    sfn.on(StartExecutionCommand).callsFake(async () => {
      await publishing;
      return { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:orders:x', startDate: new Date() };
    });
    const result = await Promise.race([
      post('intake-concurrent-1'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('start waited for nothing')), 2_000)),
    ]);
    expect(result.statusCode).toBe(202);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('accepts ExecutionAlreadyExists only when the existing execution is this order’s', async () => {
    const exists = new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
    sfn.on(StartExecutionCommand).rejects(exists);
    sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) => {
      const orderId = input.executionArn.split(':').pop();
      return { status: 'RUNNING', input: JSON.stringify({ orderId }) };
    });
    const ok = await post('intake-exists-ours-1');
    expect(ok.statusCode).toBe(202);
    const orderId = JSON.parse(String(ok.body)).orderId as string;
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input.executionArn).toBe(
      `arn:aws:states:us-east-1:123456789012:execution:orders:${orderId}`,
    );

    sfn.reset();
    sfn.on(StartExecutionCommand).rejects(exists);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', input: JSON.stringify({ orderId: 'ord-other' }) });
    const foreign = await post('intake-exists-foreign-1');
    expect(foreign.statusCode).toBe(500);
    // The order is stored and was announced together with the start: it counts as placed. Only an
    // execution started by hand can take an order's name; the 500 and the open order are for ops.
    expect(events.commandCalls(PutEventsCommand).length).toBeGreaterThan(0);
  });

  it('keeps no record but the order: one write per capture, and duplicates sent at once get the same answer', async () => {
    const stored = fakeOrdersTable();
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    const answers = await Promise.all([post('intake-at-once-1'), post('intake-at-once-1'), post('intake-at-once-1')]);
    expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202]);
    expect(new Set(answers.map((a) => JSON.parse(String(a.body)).orderId)).size).toBe(1);
    expect([...stored.values()].filter((item) => item.sk === 'ORDER')).toHaveLength(1);
    // No idempotency table: the conditional write of the order is the capture's only write.
    expect(dynamodb.calls()).toHaveLength(0);
    expect(documents.commandCalls(PutCommand)).toHaveLength(3);
  });

  it('binds a key to its order for good: another body under it is refused, the same body finds the order', async () => {
    const stored = fakeOrdersTable();
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(new SFNServiceException({ name: 'ServiceUnavailable', $fault: 'server', $metadata: {} }))
      .resolves({ executionArn: 'arn', startDate: new Date() });
    const first = await post('intake-bound-key-1');
    expect(first.statusCode).toBe(202);
    // Later (a retry after a timeout, or months on): the order remembers the key.
    const changed = await placeOrder(
      checkoutHttpEvent({
        routeKey: 'POST /orders',
        rawPath: '/orders',
        headers: { 'idempotency-key': 'intake-bound-key-1' },
        body: JSON.stringify({ ...order, lines: [{ ...order.lines[0], quantity: 2 }] }),
      }),
      context,
    );
    expect(changed.statusCode).toBe(422);
    expect(JSON.parse(String(changed.body)).error.code).toBe('IdempotencyKeyReused');
    const same = await post('intake-bound-key-1');
    expect(same.statusCode).toBe(202);
    expect(JSON.parse(String(same.body)).orderId).toBe(JSON.parse(String(first.body)).orderId);
    expect([...stored.values()].filter((item) => item.sk === 'ORDER')).toHaveLength(1);
    // Announced again (the first attempt may not have), with the order's own time, not the repeat's.
    const announced = events
      .commandCalls(PutEventsCommand)
      .map((call) => JSON.parse(String(call.args[0].input.Entries?.[0]?.Detail)).createdAt);
    expect(new Set(announced).size).toBe(1);
  });

  it("keys an import by the customer's reference: another rep importing the file finds the same order", async () => {
    const { captureOrder } = await import('../../functions/lib/intake.ts');
    const stored = fakeOrdersTable();
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    const byRep = (id: string) =>
      captureOrder({
        channel: 'import',
        idempotencyKey: 'import:PO-1001',
        request: order as never,
        placedBy: { kind: 'user', id, role: 'rep' },
        keyScope: 'customer:CUST-1002',
      });
    const first = await byRep('anna');
    const second = await byRep('ben');
    expect(second.orderId).toBe(first.orderId);
    expect([...stored.values()].filter((item) => item.sk === 'ORDER')).toHaveLength(1);
  });
});

describe('a repeat of an order entry (capturedBefore)', () => {
  it('starts and announces an order its first attempt stored but did not start, and answers as the first time', async () => {
    const { captureOrder, capturedBefore } = await import('../../functions/lib/intake.ts');
    const stored = fakeOrdersTable();
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(new SFNServiceException({ name: 'ServiceUnavailable', $fault: 'server', $metadata: {} }))
      .resolves({ executionArn: 'arn', startDate: new Date() });
    const command = {
      channel: 'rep' as const,
      idempotencyKey: 'rep-repeat-1',
      request: order as never,
      submitted: { entry: 1 },
      placedBy: { kind: 'client' as const, id: 'rep' },
    };
    const first = await captureOrder(command);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1); // failed: left to the sweep
    events.resetHistory();
    const repeat = await capturedBefore(command);
    expect(repeat).toEqual({ orderId: first.orderId, status: 'RECEIVED' });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);

    // An order that has ended is answered as the first time, and nothing is started again.
    const item = [...stored.values()].find((i) => i.sk === 'ORDER') as Record<string, unknown>;
    item.status = 'FAILED';
    expect(await capturedBefore(command)).toEqual({ orderId: first.orderId, status: 'RECEIVED' });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
    await expect(capturedBefore({ ...command, submitted: { entry: 2 } })).rejects.toThrow(/already used/);
  });
});

describe('an order entry refused while a duplicate of it captured its order', () => {
  it('answers as that order: the duplicate resolved before the product was withdrawn, this one after', async () => {
    Object.assign(process.env, { CUSTOMERS_TABLE_NAME: 'Customers', PRODUCTS_TABLE_NAME: 'Products' });
    const { captureOrder } = await import('../../functions/lib/intake.ts');
    const { enterOrder } = await import('../../functions/lib/order-entry.ts');
    const stored = fakeOrdersTable();
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
    const entry = { customerId: 'CUST-1002', lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }] };
    const command = {
      channel: 'rep' as const,
      idempotencyKey: 'rep-raced-1',
      entry,
      placedBy: { kind: 'client' as const, id: 'rep' },
    };
    documents.on(GetCommand).resolves({ Item: DEMO_CUSTOMERS.find((c) => c.customerId === 'CUST-1002') });
    // While this entry reads the price list, its duplicate (which found the product) stores the order;
    // then the product is gone for this one.
    documents.on(BatchGetCommand).callsFake(async () => {
      await captureOrder({ ...command, request: order as never, submitted: entry });
      return { Responses: { Products: [] } };
    });
    const answer = await enterOrder(command);
    const orders = [...stored.values()].filter((item) => item.sk === 'ORDER');
    expect(orders).toHaveLength(1);
    expect(answer).toEqual({ orderId: orders[0]?.orderId, status: 'RECEIVED' });

    // Without a duplicate, the same withdrawn product is refused, naming it.
    documents.on(BatchGetCommand).resolves({ Responses: { Products: [] } });
    await expect(enterOrder({ ...command, idempotencyKey: 'rep-raced-2' })).rejects.toThrow(/WIDGET-BLUE/);
  });
});

/** Stateful fake of the orders table: conditional create and query by order id. */
function fakeOrdersTable(): Map<string, Record<string, unknown>> {
  const stored = new Map<string, Record<string, unknown>>();
  documents.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
    const key = `${input.Item.orderId}|${input.Item.sk}`;
    if (stored.has(key)) throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
    stored.set(key, input.Item);
    return {};
  });
  documents.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, unknown> }) => ({
    Items: [...stored.values()].filter((item) => item.orderId === input.ExpressionAttributeValues[':id']),
  }));
  return stored;
}
