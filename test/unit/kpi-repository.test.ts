import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CONFLICT_ATTEMPTS, KpiRepository } from '../../functions/adapters/kpi-repository.ts';
import { orderEventDetail } from '../../functions/core/events.ts';
import { foldEvent, type Transition } from '../../functions/core/kpi-projection.ts';
import { lambdaContext } from '../support/lambda-events.ts';

const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);

Object.assign(process.env, { AWS_REGION: 'us-east-1', KPI_TABLE_NAME: 'Kpis', POWERTOOLS_LOG_LEVEL: 'SILENT' });

type Handler = (event: unknown, context: Context) => Promise<{ recorded: string[] }>;
let record: Handler;
beforeAll(async () => {
  record = (await import('../../functions/record-kpi/handler.ts')).handler as unknown as Handler;
});

const kpis = new KpiRepository('Kpis');
const order = {
  orderId: 'ord-00000000000000000000000001',
  customerId: 'C1',
  status: 'COMPLETED',
  channel: 'web',
  currency: 'EUR',
  createdAt: '2026-11-29T10:00:00.000Z',
};
const completed: Record<string, unknown> & { eventId: string; occurredAt: string } = {
  ...(orderEventDetail(order, 'OrderCompleted', '2026-11-29T10:30:00.000Z') as { eventId: string; occurredAt: string }),
  gross: 1000,
  allLinesDelivered: true,
  cycleTimeSeconds: 1800,
};
const fold = foldEvent('OrderCompleted', completed as never);
const outcome = fold.transitions.find((t) => t.guard === 'outcome') as Transition;

const canceled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

beforeEach(() => {
  documents.reset();
  // No wait between tries: the retries, not the pauses, are under test.
  vi.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('KpiRepository', () => {
  it('retries a transaction that lost a conflict on the counter, and counts it once', async () => {
    documents.on(TransactWriteCommand).rejectsOnce(canceled('None', 'TransactionConflict')).resolves({});
    expect(await kpis.apply(outcome)).toBe(true);
    const calls = documents.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(2);
    // The same write both times: the counter's ADD happened once, with the transaction that succeeded.
    expect(calls[1]?.args[0].input).toEqual(calls[0]?.args[0].input);
  });

  it('retries TransactionConflictException and gives up after CONFLICT_ATTEMPTS tries', async () => {
    const conflict = Object.assign(new Error('conflict'), { name: 'TransactionConflictException' });
    documents.on(TransactWriteCommand).rejects(conflict);
    await expect(kpis.apply(outcome)).rejects.toThrow('conflict');
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(CONFLICT_ATTEMPTS);
  });

  it('answers false, without another try, when the guard is set', async () => {
    documents.on(TransactWriteCommand).rejects(canceled('ConditionalCheckFailed', 'None'));
    expect(await kpis.apply(outcome)).toBe(false);
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('asks again, after a pause, for the counters DynamoDB left unprocessed', async () => {
    const keys = ['DAY#2026-11-29#0', 'DAY#2026-11-29#1'];
    documents
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { Kpis: [{ pk: keys[0], placed: 1 }] },
        UnprocessedKeys: { Kpis: { Keys: [{ pk: keys[1] }] } },
      })
      .resolves({ Responses: { Kpis: [{ pk: keys[1], placed: 2 }] } });
    const pause = vi.spyOn(globalThis, 'setTimeout');
    expect(await kpis.counters(keys)).toEqual([
      { pk: keys[0], placed: 1 },
      { pk: keys[1], placed: 2 },
    ]);
    expect(documents.commandCalls(BatchGetCommand)[1]?.args[0].input.RequestItems?.Kpis?.Keys).toEqual([
      { pk: keys[1] },
    ]);
    expect(pause).toHaveBeenCalledTimes(1);
  });
});

describe('RecordKpi', () => {
  const delivery = {
    version: '0',
    id: completed.eventId,
    'detail-type': 'OrderCompleted',
    source: 'sales.orders',
    account: '000000000000',
    time: completed.occurredAt,
    region: 'us-east-1',
    resources: [],
    detail: completed,
  };

  it('writes nothing for a duplicate whose guards and stage are recorded: no transaction takes the counters', async () => {
    documents.on(GetCommand).resolves({
      Item: { placedAt: order.createdAt, outcome: 'COMPLETED', events: new Set([completed.eventId]) },
    });
    expect(await record(delivery, lambdaContext as unknown as Context)).toEqual({ recorded: [] });
    expect(documents.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      Key: { pk: `ORDER#${order.orderId}` },
      ConsistentRead: true,
    });
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(documents.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  const validated = {
    ...(orderEventDetail(order, 'OrderValidated', '2026-11-29T10:01:00.000Z') as { eventId: string }),
    total: 1000,
    promisedDeliveryDate: '2026-12-04',
  };
  const stageOnly = { ...delivery, id: validated.eventId, 'detail-type': 'OrderValidated', detail: validated };
  const conflict = Object.assign(new Error('conflict'), { name: 'TransactionConflictException' });

  it('records a stage-only event on made facts in one write, tried again while a transaction holds the facts', async () => {
    // The order's receipt is being placed by a concurrent event's transaction: the single write loses at first.
    documents.on(UpdateCommand).rejectsOnce(conflict).resolves({});
    expect(await record(stageOnly, lambdaContext as unknown as Context)).toEqual({
      recorded: ['stageTimes.OrderValidated'],
    });
    expect(documents.commandCalls(UpdateCommand)).toHaveLength(2);
    expect(documents.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('goes to the two steps at once when the one write was refused on made facts (an earlier time is stored)', async () => {
    const refused = Object.assign(new Error('refused'), { name: 'ConditionalCheckFailedException' });
    documents.on(UpdateCommand).rejectsOnce(refused).rejectsOnce(refused).resolves({});
    documents.on(GetCommand).resolves({ Item: { placedAt: order.createdAt, events: new Set(['another']) } });
    expect(await record(stageOnly, lambdaContext as unknown as Context)).toEqual({
      recorded: ['stageTimes.OrderValidated'],
    });
    // The refused one write, the time kept (refused: earlier), the event marked: not the one write again.
    expect(documents.commandCalls(UpdateCommand).map((call) => call.args[0].input.UpdateExpression)).toEqual([
      'SET #times.#stage = :at ADD #events :ids',
      'SET #times.#stage = :at',
      'ADD #events :ids',
    ]);
  });

  it('transacts only the transitions not applied yet', async () => {
    documents.on(GetCommand).resolves({ Item: { placedAt: order.createdAt } });
    documents.on(TransactWriteCommand).resolves({});
    documents.on(UpdateCommand).resolves({});
    const { recorded } = await record(delivery, lambdaContext as unknown as Context);
    expect(recorded).toEqual(['outcome', 'stageTimes.OrderCompleted']);
    const transactions = documents.commandCalls(TransactWriteCommand);
    expect(transactions).toHaveLength(1);
    expect(transactions[0]?.args[0].input.TransactItems?.[0]?.Update?.ConditionExpression).toBe(
      'attribute_not_exists(#guard)',
    );
    expect(transactions[0]?.args[0].input.TransactItems?.[0]?.Update?.ExpressionAttributeNames?.['#guard']).toBe(
      'outcome',
    );
    // The stage rides with the outcome: its time and its event in the transaction's write, no write after it.
    expect(transactions[0]?.args[0].input.TransactItems?.[0]?.Update).toMatchObject({
      UpdateExpression: expect.stringMatching(/^SET .*#times\.#stage = :at ADD #events :ids$/),
      ExpressionAttributeNames: { '#times': 'stageTimes', '#stage': 'OrderCompleted', '#events': 'events' },
      ExpressionAttributeValues: { ':at': completed.occurredAt, ':ids': new Set([completed.eventId]) },
    });
    expect(documents.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});
