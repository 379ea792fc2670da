import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrdersRepository } from '../../functions/adapters/orders-repository.ts';
import { newOrder } from '../../functions/core/order.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * The sweep pages through every open order: orders waiting days for delivery (their executions
 * RUNNING) at the head of the open-orders index never hide a newer order left stuck. Pages of two
 * and no minimum age, so three orders waiting for delivery fill more than a page.
 */
let runtime: LocalRuntime;
let client: TestClient;

beforeAll(async () => {
  runtime = await startTestRuntime({
    autoDeliver: false,
    environment: { POWERTOOLS_LOG_LEVEL: 'ERROR', SWEEP_BATCH_SIZE: '2', SWEEP_MIN_AGE_SECONDS: '0' },
  });
  client = new TestClient(runtime);
});

afterAll(async () => {
  await runtime?.stop();
});

describe('open-orders sweep', () => {
  it('reaches an order left RECEIVED behind more than a page of orders waiting for delivery', async () => {
    // Waiting for delivery: shipped, captured and invoiced at dispatch (INVOICED).
    const waiting = [];
    for (let i = 0; i < 3; i++) waiting.push(await client.placeOrder(orderBody()));
    await Promise.all(waiting.map((id) => client.waitForStatus(id, 'INVOICED')));

    const orders = new OrdersRepository(
      runtime.deployment.tables.find((t) => t.TableName?.includes('Orders'))?.TableName as string,
    );
    const stuck = `ord-${crypto.randomUUID().replaceAll('-', '').slice(0, 26)}`;
    const request = orderBody({ lines: [{ sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1250 }] }) as never;
    // Newest of all: last in the index, behind the three waiting ones.
    expect(await orders.create(newOrder({ orderId: stuck, request, channel: 'web', now: new Date() }))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));

    runtime.fireSchedule('WorkflowOpenOrdersSweep');
    await client.waitForStatus(stuck, 'INVOICED');
    for (const id of waiting) expect((await client.order(id)).status).toBe('INVOICED');
  }, 60_000);
});
