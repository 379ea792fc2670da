import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ORDER_SK } from '../../functions/adapters/orders-repository.ts';
import { logger, orderScope } from '../../functions/lib/powertools.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';

const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);
mockClient(EventBridgeClient);

// Before any import: the logger reads its level when it is created.
vi.hoisted(() =>
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    ORDERS_TABLE_NAME: 'Orders',
    PRODUCTS_TABLE_NAME: 'Products',
    STOCK_TABLE_NAME: 'Stock',
    CUSTOMERS_TABLE_NAME: 'Customers',
    EVENT_BUS_NAME: 'Bus',
  }),
);

const FIRST = 'ord-01jd0000000000000000000001';
const SECOND = 'ord-01jd0000000000000000000002';

/** The JSON lines the function writes to its log stream while `run` runs. */
async function logLinesOf(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const written: string[] = [];
  const capture = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
  try {
    await run().catch(() => undefined);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const context = (requestId: string) => ({ ...lambdaContext, awsRequestId: requestId }) as Context;
type Handler = (event: unknown, context: Context) => Promise<unknown>;
let voidPayment: Handler;
let getOrder: Handler;

beforeAll(async () => {
  voidPayment = (await import('../../functions/void-payment/handler.ts')).handler as never;
  getOrder = (await import('../../functions/get-order/handler.ts')).handler as never;
});

beforeEach(() => documents.reset());

describe('the order id on log lines, in a warm execution environment', () => {
  it("a workflow task's lines carry its order's id, and the next invocation's the next order's", async () => {
    // A card order captured in full: VoidPayment leaves it to ops and says so.
    documents.on(QueryCommand).callsFake((input: { ExpressionAttributeValues: Record<string, string> }) => ({
      Items: [
        {
          orderId: input.ExpressionAttributeValues[':id'],
          sk: ORDER_SK,
          payment: { method: 'card' },
          paymentRecord: { status: 'CAPTURED' },
        },
      ],
    }));
    const first = await logLinesOf(() => voidPayment({ orderId: FIRST }, context('first')));
    const between = await logLinesOf(async () => logger.info('Between invocations'));
    const second = await logLinesOf(() => voidPayment({ orderId: SECOND }, context('second')));

    expect(first).toEqual([
      expect.objectContaining({ message: 'Captured payment left for ops to settle', orderId: FIRST }),
    ]);
    expect(first[0]).toMatchObject({ function_request_id: 'first' });
    expect(between).toHaveLength(1);
    expect(between[0]).not.toHaveProperty('orderId');
    expect(second).toEqual([
      expect.objectContaining({ message: 'Captured payment left for ops to settle', orderId: SECOND }),
    ]);
    expect(second[0]).toMatchObject({ function_request_id: 'second' });
  });

  it("a route's lines carry the order its path names, and the next request's the next order's, after a failure too", async () => {
    documents
      .on(QueryCommand)
      .rejects(Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    const request = (orderId: string) =>
      checkoutHttpEvent({ routeKey: 'GET /orders/{orderId}', pathParameters: { orderId } });

    let response: APIGatewayProxyStructuredResultV2 | undefined;
    const first = await logLinesOf(async () => {
      response = (await getOrder(request(FIRST), context('first'))) as APIGatewayProxyStructuredResultV2;
    });
    const between = await logLinesOf(async () => logger.info('Between requests'));
    const second = await logLinesOf(() => getOrder(request(SECOND), context('second')));

    expect(response?.statusCode).toBe(500);
    expect(first).toEqual([expect.objectContaining({ message: 'Unhandled error in route', orderId: FIRST })]);
    expect(between).toHaveLength(1);
    expect(between[0]).not.toHaveProperty('orderId');
    expect(second).toEqual([expect.objectContaining({ message: 'Unhandled error in route', orderId: SECOND })]);
  });

  it("a sweep's lines for one order carry its id, the next order's lines their own, and the sweep's summary none", async () => {
    const lines = await logLinesOf(async () => {
      for (const orderId of [FIRST, SECOND]) await orderScope(async () => logger.warn('Delivery overdue'), orderId);
      await orderScope(async () => logger.info('Not an order yet'));
      logger.info('Sweep done');
    });
    expect(lines.map((line) => [line.message, line.orderId])).toEqual([
      ['Delivery overdue', FIRST],
      ['Delivery overdue', SECOND],
      ['Not an order yet', undefined],
      ['Sweep done', undefined],
    ]);
  });
});
