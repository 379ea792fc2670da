import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { metrics } from '../../functions/lib/powertools.ts';

const dynamo = mockClient(DynamoDBClient);
Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  IDEMPOTENCY_TABLE_NAME: 'Idempotency',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});
const context = {
  functionName: 'RecordKpi',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;
let handler: (event: unknown, context: Context) => Promise<{ recorded: string[] }>;

beforeAll(async () => {
  handler = (await import('../../functions/record-kpi/handler.ts')).handler as never;
});

const completed = {
  version: '0',
  id: 'e1',
  'detail-type': 'OrderCompleted',
  source: 'sales.orders',
  account: '1',
  time: '2026-11-28T10:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { orderId: 'ord-1', currency: 'EUR', total: 1234, cycleTimeSeconds: 60 },
};

describe('KPI consumer', () => {
  it('counts an order event once, even when it is delivered twice', async () => {
    const added = vi.spyOn(metrics, 'addMetric');
    const published = vi.spyOn(metrics, 'publishStoredMetrics');
    dynamo.on(PutItemCommand).resolvesOnce({});
    dynamo.on(UpdateItemCommand).resolves({});
    expect(await handler(completed, context)).toEqual({ recorded: ['OrdersCompleted', 'OrderCycleTime', 'Revenue'] });
    expect(added.mock.calls.map((call) => call[0])).toEqual(['OrdersCompleted', 'OrderCycleTime']);
    expect(published).toHaveBeenCalledTimes(1);

    // The same (order, event type) again: the idempotency record says it was counted.
    const putItem = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    dynamo.on(PutItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'exists',
        $metadata: {},
        Item: marshall({
          id: putItem?.Item?.id?.S,
          status: 'COMPLETED',
          expiration: Math.floor(Date.now() / 1000) + 3600,
          data: { recorded: ['OrdersCompleted', 'OrderCycleTime', 'Revenue'] },
        }),
      }),
    );
    added.mockClear();
    published.mockClear();
    await handler({ ...completed, id: 'e2' }, context);
    expect(added).not.toHaveBeenCalled();
    // Nothing to publish, and no warning about an empty batch either.
    expect(published).not.toHaveBeenCalled();
    expect(putItem?.Item?.id?.S).toContain('#'); // keyed by a hash of [orderId, detail-type]
  });
});
