import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrdersRepository } from '../../functions/adapters/orders-repository.ts';
import { feedbackOf } from '../../functions/core/feedback.ts';
import { newOrder } from '../../functions/core/order.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * The sweep pages through every open order: orders waiting days for delivery (their executions
 * RUNNING) at the head of the open-orders index never hide a newer order left stuck. Pages of two
 * and no minimum age, so three orders waiting for delivery fill more than a page. The same sweep
 * publishes survey answers a failed request left unpublished (no grace period here).
 */
let runtime: LocalRuntime;
let client: TestClient;

beforeAll(async () => {
  runtime = await startTestRuntime({
    autoDeliver: false,
    environment: {
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      SWEEP_BATCH_SIZE: '2',
      SWEEP_MIN_AGE_SECONDS: '0',
      FEEDBACK_PUBLISH_GRACE_SECONDS: '0',
    },
  });
  client = new TestClient(runtime);
});

afterAll(async () => {
  await runtime?.stop();
});

const ordersRepository = () =>
  new OrdersRepository(runtime.deployment.tables.find((t) => t.TableName?.includes('Orders'))?.TableName as string);
const newOrderId = () => `ord-${crypto.randomUUID().replaceAll('-', '').slice(0, 26)}`;

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
    for (const id of waiting) {
      expect((await client.order(id)).status).toBe('INVOICED');
      // Each parcel carries when it was booked: the delivery SLA times it from there.
      for (const shipment of (await orders.get(id)).shipments)
        expect(Date.parse(shipment.shippedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    }
  });

  it('publishes a survey answer whose request failed after writing it, found through the sparse index', async () => {
    const orders = ordersRepository();
    const orderId = newOrderId();
    const request = orderBody({ lines: [{ sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1250 }] }) as never;
    const order = newOrder({ orderId, request, channel: 'web', now: new Date() });
    // A completed order (the sweep only announces it again) answered a moment ago; nothing published it.
    expect(await orders.create({ ...order, status: 'COMPLETED' })).toBe(true);
    const answer = feedbackOf({ score: 5, comment: 'Slow' }, new Date(Date.now() - 1000));
    expect((await orders.recordFeedback(orderId, answer)).recorded).toBe(true);
    expect((await orders.unpublishedFeedbackBefore(new Date(), 50)).map((a) => a.orderId)).toContain(orderId);

    runtime.fireSchedule('WorkflowOpenOrdersSweep');
    const event = await eventually(async () => {
      const events = (await (await fetch(`${runtime.urls.eventbridge}/events`)).json()) as {
        'detail-type': string;
        detail: Record<string, unknown>;
      }[];
      return events.find((e) => e['detail-type'] === 'FeedbackReceived' && e.detail.orderId === orderId);
    });
    expect(event.detail).toMatchObject({
      eventId: `feedback:${orderId}`,
      customerId: order.customerId,
      occurredAt: answer.answeredAt,
      score: 5,
      group: 'detractor',
    });
    await eventually(async () => (await orders.feedbackOf(orderId)).feedback?.publishedAt);
    // Marked published: out of the index, and the order as read carries no index bookkeeping.
    expect((await orders.unpublishedFeedbackBefore(new Date(), 50)).map((a) => a.orderId)).not.toContain(orderId);
    const stored = (await orders.find(orderId)) as Record<string, unknown>;
    expect(stored).not.toHaveProperty('feedbackUnpublished');
    expect(stored).not.toHaveProperty('feedbackAnsweredAt');
  });
});
