import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KpiRepository } from '../../functions/adapters/kpi-repository.ts';
import { orderEventDetail } from '../../functions/core/events.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';
import { type LocalTables, startTables } from '../support/tables.ts';

/**
 * The KPI projection through its real handlers against DynamoDB Local: the same events delivered
 * twice, out of order and concurrently count once, and GET /kpis answers from what was written.
 */
let tables: LocalTables;
type Handler = (event: unknown, context: Context) => Promise<unknown>;
let record: Handler;
let getKpis: Handler;

beforeAll(async () => {
  tables = await startTables();
  Object.assign(process.env, { KPI_TABLE_NAME: tables.names.kpis, POWERTOOLS_LOG_LEVEL: 'SILENT' });
  record = (await import('../../functions/record-kpi/handler.ts')).handler as unknown as Handler;
  getKpis = (await import('../../functions/get-kpis/handler.ts')).handler as unknown as Handler;
}, 120_000);

afterAll(async () => {
  await tables?.stop();
});

const context = lambdaContext as unknown as Context;
const order = (n: number, currency = 'EUR') => ({
  orderId: `ord-${String(n).padStart(26, '0')}`,
  customerId: 'CUST-1001',
  status: 'RECEIVED',
  channel: 'web',
  currency,
  createdAt: `2026-11-29T10:0${n}:00.000Z`,
  totals: { total: 1000 * n },
  promisedDeliveryDate: '2026-12-04',
});
const envelope = (type: string, detail: Record<string, unknown>) => ({
  version: '0',
  id: `${detail.eventId}`,
  'detail-type': type,
  source: 'sales.orders',
  account: '000000000000',
  time: detail.occurredAt,
  region: 'us-east-1',
  resources: [],
  detail,
});
const event = (o: ReturnType<typeof order>, type: Parameters<typeof orderEventDetail>[1], at: string, extra = {}) =>
  envelope(type, { ...orderEventDetail(o, type, at), ...extra });

async function kpis(query: Record<string, string>) {
  const request = checkoutHttpEvent({
    rawPath: '/kpis',
    routeKey: 'GET /kpis',
    queryStringParameters: query,
    body: undefined,
  } as Partial<APIGatewayProxyEventV2>);
  const result = (await getKpis(request, context)) as { statusCode: number; body: string };
  return { status: result.statusCode, body: JSON.parse(result.body) };
}

describe('KPI projection on DynamoDB Local', () => {
  it('counts events delivered twice and out of order once', async () => {
    const a = order(1);
    const b = order(2);
    const completeA = [
      event(a, 'OrderCompleted', '2026-11-29T10:31:00.000Z', {
        gross: 1000,
        allLinesDelivered: true,
        cycleTimeSeconds: 1800,
      }),
      event(a, 'OrderDelivered', '2026-11-29T10:30:00.000Z', { deliveredAt: '2026-11-29T10:30:00.000Z' }),
      event(a, 'OrderValidated', '2026-11-29T10:01:10.000Z', { total: 1000, promisedDeliveryDate: '2026-12-04' }),
      event(a, 'OrderReceived', a.createdAt),
    ];
    const rejectB = [
      event(b, 'OrderRejected', '2026-11-29T10:02:30.000Z', { failureCode: 'OutOfStock' }),
      event(b, 'OrderReceived', b.createdAt),
    ];
    const first = (await record(completeA[0], context)) as { recorded: string[] };
    expect(first.recorded).toEqual(['placedAt', 'outcome', 'stageTimes.OrderCompleted']);
    // The rest, every event twice, some at the same time.
    await Promise.all([...completeA, ...rejectB].map((e) => record(e, context)));
    for (const e of [...completeA, ...rejectB]) expect(await record(e, context)).toEqual({ recorded: [] });

    const { status, body } = await kpis({ from: '2026-11-29', to: '2026-11-29' });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      from: '2026-11-29',
      to: '2026-11-29',
      currency: null,
      ordersPlaced: 2,
      ordersCompleted: 1,
      ordersRejected: 1,
      ordersInFlight: 0,
      revenue: { EUR: 1000 },
      averageOrderValue: { EUR: 1000 },
      cycleTimeSeconds: { p50: 1800, p90: 1800 },
      fulfilmentRate: 1,
      onTimeDeliveryRate: 1,
      backorderRate: 0,
      rejectionsByReason: { OutOfStock: 1 },
      // Validated 10 s after placing, delivered 28m50s after that, completed a minute later.
      stageLatencySeconds: { OrderValidated: 10, OrderDelivered: 1730, OrderCompleted: 60 },
      nps: { score: null, responses: 0 },
    });
    // Another day's window holds none of them.
    expect((await kpis({ from: '2026-11-30', to: '2026-12-01' })).body.ordersPlaced).toBe(0);
  });

  it('counts a survey answer once, with the orders placed the day its order was', async () => {
    const answer = envelope('FeedbackReceived', {
      version: 1,
      eventId: `feedback:${order(3).orderId}`,
      orderId: order(3).orderId,
      customerId: 'CUST-1001',
      occurredAt: '2026-11-30T08:00:00.000Z',
      placedAt: '2026-11-27T08:00:00.000Z',
      score: 9,
      group: 'promoter',
    });
    await Promise.all([record(answer, context), record(answer, context)]);
    expect((await kpis({ from: '2026-11-30', to: '2026-11-30' })).body.nps.responses).toBe(0);
    expect((await kpis({ from: '2026-11-27', to: '2026-11-27' })).body.nps).toEqual({
      score: 100,
      promoters: 1,
      passives: 0,
      detractors: 0,
      responses: 1,
    });
  });

  it('records a stage time and its event in one write, and keeps the earliest time of later and earlier facts', async () => {
    const kpis = new KpiRepository(tables.names.kpis);
    const key = 'ORDER#ord-stage-times';
    await tables.db.send(
      new PutCommand({
        TableName: tables.names.kpis,
        Item: { pk: key, placedAt: '2026-11-29T10:00:00.000Z', stageTimes: {} },
      }),
    );
    const writes = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
    const stage = (eventId: string, at: string) => ({
      key,
      stage: 'OrderDelivered' as const,
      eventId,
      at,
      metrics: [],
    });
    const stored = async () =>
      (await tables.db.send(new GetCommand({ TableName: tables.names.kpis, Key: { pk: key }, ConsistentRead: true })))
        .Item as { stageTimes: Record<string, string>; events: Set<string> };
    try {
      // The first fact of the stage: one write sets its time and marks its event.
      expect(await kpis.recordStage(stage('e1', '2026-11-29T12:00:00.000Z'))).toBe(true);
      expect(writes).toHaveBeenCalledTimes(1);
      // A later fact (a second shipment's delivery): the one write refused, then the two steps apart mark its
      // event and keep the earlier time.
      writes.mockClear();
      expect(await kpis.recordStage(stage('e2', '2026-11-29T13:00:00.000Z'))).toBe(true);
      expect(writes).toHaveBeenCalledTimes(3);
      // An earlier one arriving late: one write again, the time lowered.
      writes.mockClear();
      expect(await kpis.recordStage(stage('e3', '2026-11-29T11:00:00.000Z'))).toBe(true);
      expect(writes).toHaveBeenCalledTimes(1);
      // A known event delivered again: nothing more.
      expect(await kpis.recordStage(stage('e2', '2026-11-29T13:00:00.000Z'))).toBe(false);
    } finally {
      writes.mockRestore();
    }
    const item = await stored();
    expect(item.stageTimes).toEqual({ OrderDelivered: '2026-11-29T11:00:00.000Z' });
    expect([...item.events].sort()).toEqual(['e1', 'e2', 'e3']);
  });

  it('records a stage that adds nothing but its time to made facts in one write, without reading them first', async () => {
    // Placed the day before the other tests' orders: their day's counts stay theirs, whatever runs first.
    const a = { ...order(4), createdAt: '2026-11-28T10:04:00.000Z' };
    const received = event(a, 'OrderReceived', a.createdAt);
    const validated = event(a, 'OrderValidated', '2026-11-28T10:04:10.000Z', { total: 4000 });
    const reserved = event(a, 'OrderStockReserved', '2026-11-28T10:04:20.000Z');
    const shipped = event(a, 'OrderShipped', '2026-11-28T10:05:00.000Z', {
      carrier: 'sandbox',
      shipmentId: `${a.orderId}-A1`,
      warehouseId: 'WH-BERLIN',
    });
    const sends = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
    const commands = () => sends.mock.calls.map(([command]) => command.constructor.name);
    try {
      // Before the order's receipt: no facts, the one write refused, then the whole fold makes them, its stage
      // carried by the placing's transaction.
      expect(await record(validated, context)).toEqual({ recorded: ['placedAt', 'stageTimes.OrderValidated'] });
      expect(commands()).toEqual(['UpdateCommand', 'GetCommand', 'TransactWriteCommand']);
      // The receipt reads first: it is the event that usually makes the facts.
      sends.mockClear();
      expect(await record(received, context)).toEqual({ recorded: ['stageTimes.OrderReceived'] });
      expect(commands()).toEqual(['GetCommand', 'UpdateCommand']);
      // Made facts: one write, no read.
      sends.mockClear();
      expect(await record(reserved, context)).toEqual({ recorded: ['stageTimes.OrderStockReserved'] });
      expect(commands()).toEqual(['UpdateCommand']);
      // Delivered again: the write refused, the read finds the event known, nothing more.
      sends.mockClear();
      expect(await record(reserved, context)).toEqual({ recorded: [] });
      expect(commands()).toEqual(['UpdateCommand', 'GetCommand']);
      // A fact with a transition of its own: the read, then one write that makes it and records its stage.
      sends.mockClear();
      expect(await record(shipped, context)).toEqual({ recorded: ['shipped', 'stageTimes.OrderShipped'] });
      expect(commands()).toEqual(['GetCommand', 'UpdateCommand']);
    } finally {
      sends.mockRestore();
    }
    const { Item } = await tables.db.send(
      new GetCommand({ TableName: tables.names.kpis, Key: { pk: `ORDER#${a.orderId}` }, ConsistentRead: true }),
    );
    expect(Item?.placedAt).toBe(a.createdAt);
    expect(Item?.stageTimes).toEqual({
      OrderReceived: a.createdAt,
      OrderValidated: '2026-11-28T10:04:10.000Z',
      OrderStockReserved: '2026-11-28T10:04:20.000Z',
      OrderShipped: '2026-11-28T10:05:00.000Z',
    });
    expect(Item?.shipped).toBe(true);
    expect([...((Item?.events as Set<string> | undefined) ?? [])].sort()).toEqual(
      [received, validated, reserved, shipped].map((e) => e.detail.eventId).sort(),
    );
  });

  it('refuses a bad window naming the field', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ from: '2026-11-31', to: '2026-12-01' }, 'from'],
      [{ from: '2026-12-02', to: '2026-12-01' }, 'to'],
      [{ from: '2025-01-01', to: '2026-12-01' }, 'to'],
      [{ from: '2026-11-01', to: '2026-11-30', currency: 'eur' }, 'currency'],
      [{ from: '2026-11-01', to: '2026-11-30', form: 'x' }, 'form'],
    ];
    for (const [query, field] of cases) {
      const { status, body } = await kpis(query);
      expect(status).toBe(400);
      expect(body.error.issues.map((d: { path: string }) => d.path)).toContain(field);
    }
  });
});
