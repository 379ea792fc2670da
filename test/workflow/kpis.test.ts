import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMoney } from '../../functions/core/money.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * KPIs end to end: orders with known outcomes run through the real workflow on the local runtime, their
 * domain events reach the KPI projection through the local bus and its KPI rule, customers answer the
 * real survey (the link of its e-mail), and GET /kpis (real HTTP, the ops demo client) and `npm run kpis`
 * answer exactly what happened.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
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

/** The survey link of an order's e-mail (as the customer gets it), once the survey was sent. */
const surveyLink = (orderId: string) =>
  eventually(async () => {
    const mail = (await client.sentEmails()).find((e) => e.subject === `Order ${orderId}: how did we do?`);
    const link = new RegExp(`${runtime.urls.api}/feedback/[^\\s?]+`).exec(String(mail?.body.text));
    expect(link).not.toBeNull();
    return String(link?.[0]);
  });

/** `npx tsx local/cli/kpis.ts <args>` against this runtime, as a user runs `npm run kpis`. */
const kpisCli = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'npx',
      ['tsx', 'local/cli/kpis.ts', ...args],
      {
        cwd: ROOT,
        timeout: 60_000,
        env: {
          ...process.env,
          ORDER_API_URL: runtime.urls.api,
          ORDER_AUTH_URL: runtime.urls.auth,
          ORDER_API_TOKEN: '',
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('GET /kpis', () => {
  it('answers the figures of 6 completed, 2 declined (FAILED) and 1 rejected order, 4 survey answers', async () => {
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
    await client.allFinished(ids);
    const finals = await Promise.all(ids.map((id) => client.order(id)));
    expect(finals.map((order) => order.status)).toEqual([
      ...Array(6).fill('COMPLETED'),
      'FAILED',
      'FAILED',
      'REJECTED',
    ]);
    const grosses = finals.slice(0, 6).map((order) => order.totals.total as number);
    const revenue = grosses.reduce((sum, gross) => sum + gross, 0);

    // Four customers answer the survey through its e-mail's link: 2 promoters, 1 passive, 1 detractor.
    const scores = [10, 9, 8, 3];
    await Promise.all(
      scores.map(async (score, n) => {
        const answer = await fetch(await surveyLink(completed[n] as string), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ score }),
        });
        expect(answer.status).toBe(201);
      }),
    );

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
      expect(body.nps.responses).toBe(4);
      return body;
    });

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
      nps: { score: 25, promoters: 2, passives: 1, detractors: 1, responses: 4 },
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

    // The terminal report shows the same figures.
    const report = await kpisCli(['--from', day(-1), '--to', day(1)]);
    expect(report.stderr).toBe('');
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/^ {2}placed +9$/m);
    expect(report.stdout).toMatch(/^ {2}completed +6$/m);
    expect(report.stdout).toMatch(/^ {2}failed +2 \(PaymentDeclined 2\)$/m);
    expect(report.stdout).toContain(`\n  ${'revenue'.padEnd(24)} ${formatMoney(revenue, 'EUR')}\n`);
    expect(report.stdout).toMatch(/^ {2}NPS +25 \(2 promoters, 1 passives, 1 detractors\)$/m);
  }, 180_000);
});
