import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, sleep, startTestRuntime, TestClient, WAIT_MS } from '../support/runtime.ts';

/**
 * Stock under contention, on the real ASL and the local runtime. Its own runtime, with the real
 * delivery wait: a shorter one would end deliveries the carrier never picked up, cancel them and
 * put their stock back on sale during the test.
 */
let runtime: LocalRuntime;
let client: TestClient;

beforeAll(async () => {
  runtime = await startTestRuntime({ autoDeliver: false });
  client = new TestClient(runtime);
});

afterAll(async () => {
  await runtime?.stop();
});

/**
 * Four orders for each unit. ReserveStock, a workflow task, has two execution environments here
 * (startTestRuntime; the API's functions four), so reservations race two at a time however many orders there are.
 */
const ORDERS = 100;
const UNITS = 25;

describe('stock under contention', () => {
  it(`${ORDERS} concurrent orders for ${UNITS} units: exactly ${UNITS} hold stock, the rest are REJECTED, stock never below zero`, async () => {
    const sku = 'KEYBOARD-MX';
    await client.setStock(sku, UNITS);
    const before = await client.product(sku);
    let lowest = before.available as number;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        lowest = Math.min(lowest, (await client.product(sku)).available);
        await sleep(25);
      }
    })();

    const started = Date.now();
    const ids = await Promise.all(
      Array.from({ length: ORDERS }, () =>
        client.placeOrder(orderBody({ lines: [{ sku, quantity: 1, unitPrice: 11900 }] })),
      ),
    );
    // Every order either got stock (and goes on to ship) or was rejected.
    const outcomes = await eventually(
      async () => {
        const orders = await Promise.all(ids.map((id) => client.order(id)));
        const settled = orders.every(
          (o) => o.status === 'REJECTED' || o.timeline.some((e: { type: string }) => e.type === 'OrderStockReserved'),
        );
        return settled ? orders : undefined;
      },
      // About 20 s on a quiet 2-core machine; a slow one running another file beside it has needed more than 60.
      3 * WAIT_MS,
      250,
    );
    const seconds = (Date.now() - started) / 1000;
    watching = false;
    await watcher;

    const reserved = outcomes.filter((o) => o.timeline.some((e: { type: string }) => e.type === 'OrderStockReserved'));
    const rejected = outcomes.filter((o) => o.status === 'REJECTED');
    expect(reserved).toHaveLength(UNITS);
    expect(rejected).toHaveLength(ORDERS - UNITS);
    expect(rejected.every((o) => o.failure.code === 'OutOfStock')).toBe(true);
    const after = await client.product(sku);
    expect(after.available).toBe(0);
    expect(after.available + after.reserved).toBeLessThanOrEqual(UNITS);
    expect(lowest).toBeGreaterThanOrEqual(0);
    console.info(
      `concurrency: ${ORDERS} orders settled in ${seconds.toFixed(1)} s (${(ORDERS / seconds).toFixed(0)} orders/s)`,
    );
  }, 300_000);
});
