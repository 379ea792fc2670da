import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * KPIs end to end: orders with known outcomes run through the real workflow on the local runtime, their
 * domain events reach the KPI projection through the local bus and its KPI rule, and GET /kpis (real
 * HTTP, the ops demo client) answers exactly what happened.
 */
let runtime: LocalRuntime;
let client: TestClient;

beforeAll(async () => {
  runtime = await startTestRuntime({
    carrierDeliveryMs: 100,
    // The rejected order is for more than the stock, far above the high-value threshold: no approval here.
    environment: { HIGH_VALUE_THRESHOLDS: 'EUR=100000000' },
  });
  client = new TestClient(runtime);
});

afterAll(async () => {
  await runtime?.stop();
});

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('GET /kpis', () => {
  it('answers the figures of 6 completed, 2 declined (FAILED) and 1 rejected order', async () => {
    const dock = await client.product('DOCK-4K');
    const [completed, declined, rejected] = await Promise.all([
      Promise.all(Array.from({ length: 6 }, () => client.placeOrder(orderBody()))),
      Promise.all(
        Array.from({ length: 2 }, () =>
          client.placeOrder(
            orderBody({
              lines: [{ sku: 'GADGET-PRO', quantity: 1, unitPrice: 8900 }],
              payment: { method: 'card', token: 'tok_declined' },
            }),
          ),
        ),
      ),
      client.placeOrder(orderBody({ lines: [{ sku: 'DOCK-4K', quantity: dock.available + 1, unitPrice: 18900 }] })),
    ]);
    const ids = [...completed, ...declined, rejected];
    await Promise.all(ids.map((id) => client.finished(id, 60_000)));
    const finals = await Promise.all(ids.map((id) => client.order(id)));
    expect(finals.map((order) => order.status)).toEqual([
      ...Array(6).fill('COMPLETED'),
      'FAILED',
      'FAILED',
      'REJECTED',
    ]);
    const grosses = finals.slice(0, 6).map((order) => order.totals.total as number);
    const revenue = grosses.reduce((sum, gross) => sum + gross, 0);

    // The window around today (UTC), so a run across midnight still holds every order.
    const path = `/kpis?from=${day(-1)}&to=${day(1)}`;
    const kpis = await eventually(async () => {
      const response = await client.as('ops').request('GET', path);
      expect(response.status).toBe(200);
      const body = response.body as Record<string, any>;
      // The events arrive asynchronously: wait until every order has its outcome.
      expect(body.ordersPlaced).toBe(9);
      expect(body.ordersInFlight).toBe(0);
      expect(body.ordersCompleted).toBe(6);
      return body;
    }, 30_000);

    expect(kpis).toMatchObject({
      from: day(-1),
      to: day(1),
      currency: null,
      ordersPlaced: 9,
      ordersCompleted: 6,
      ordersRejected: 1,
      ordersCancelled: 0,
      ordersFailed: 2,
      ordersInFlight: 0,
      revenue: { EUR: revenue },
      averageOrderValue: { EUR: Math.round(revenue / 6) },
      fulfilmentRate: 6 / 8,
      onTimeDeliveryRate: 1,
      backorderRate: 0,
      rejectionsByReason: { OutOfStock: 1 },
      failuresByReason: { PaymentDeclined: 2 },
      nps: { score: null, promoters: 0, passives: 0, detractors: 0, responses: 0 },
    });
    const { p50, p90 } = kpis.cycleTimeSeconds;
    expect(p50).toBeGreaterThan(0);
    expect(p90).toBeGreaterThanOrEqual(p50);
    expect(p90).toBeLessThan(120);
    expect(Object.keys(kpis.stageLatencySeconds).sort()).toEqual(
      [
        'OrderCompleted',
        'OrderDelivered',
        'OrderInvoiced',
        'OrderPaymentAuthorized',
        'OrderPaymentCaptured',
        'OrderShipped',
        'OrderStockReserved',
        'OrderValidated',
      ].sort(),
    );
    for (const seconds of Object.values(kpis.stageLatencySeconds)) expect(seconds).toBeGreaterThanOrEqual(0);

    // Finance reads them too, narrowed to a currency; a buyer may not.
    const eur = await client.as('finance').request('GET', `${path}&currency=EUR`);
    expect(eur.body).toMatchObject({ currency: 'EUR', revenue: { EUR: revenue }, ordersPlaced: 9 });
    expect((await client.as('finance').request('GET', `${path}&currency=USD`)).body).toMatchObject({ revenue: {} });
    expect((await client.as('buyer').request('GET', path)).status).toBe(403);
  }, 120_000);
});
