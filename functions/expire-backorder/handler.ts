import * as z from 'zod/mini';
import { Mailer } from '../adapters/mailer.ts';
import { cancellableShipments, cancellationEmail } from '../core/cancellation.ts';
import { backorderCancelledEmail } from '../core/emails.ts';
import { OrderCancelled, OrderClosed } from '../core/errors.ts';
import { lazySchema } from '../core/lazy-schema.ts';
import { type Order, OrderRef, type StockLine } from '../core/schemas.ts';
import { toShip } from '../core/shipment.ts';
import { cancelBackorderRemainder } from '../lib/backorders.ts';
import { requireEnv } from '../lib/config.ts';
import { backorderLedger, clock, customersRepository, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const ledger = backorderLedger();
const customers = customersRepository();
const recordStage = stageRecorder(orders, eventPublisher(), clock);
const mailer = new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined);

const Input = /* @__PURE__ */ lazySchema(() =>
  z.extend(OrderRef, { mode: z._default(z.enum(['expire', 'check', 'cancel']), 'expire') }),
);

/**
 * The backorder as the workflow goes on with it, answered as `{ backordered, backorderSeconds,
 * allocations (not shipped yet, for FulfilShipments), allocated }`:
 * - `expire` (ExpireBackorder, AwaitBackorder timed out): what still waits is cancelled; the order
 *   keeps what was allocated and the customer is told by e-mail. `allocated: false` (nothing at all
 *   was allocated) sends the workflow to cancel the order (BackorderExpired).
 * - `check` (CheckBackorder, after shipping): what still waits and the seconds until it expires.
 * - `cancel` (CancelBackorder, cancelled while waiting) and any mode on a cancelled order: with a
 *   shipment booked, what waits is cancelled (remainder), allocations not booked give their stock
 *   back and the customer is told with the canceller's reason; nothing more ships. Nothing booked:
 *   OrderCancelled (the whole order is compensated).
 */
export const handler = workflowTask(Input, async ({ orderId, mode }) => {
  let order = await orders.get(orderId);
  if (order.cancellation || mode === 'cancel') {
    if (!order.cancellation || cancellableShipments(order).committed.length === 0) throw new OrderCancelled(orderId);
    order = await cancelWaiting(order);
    // Allocations not booked will not ship: their held stock goes back (idempotent per allocation).
    for (const allocationId of cancellableShipments(order).open) await ledger.releaseAllocation(orderId, allocationId);
    await notifyRemainderCancelled(order);
    // A cancelled order ships nothing more.
    return { ...answer(order), allocations: [] };
  }
  if (mode === 'check') return answer(order);
  order = await cancelWaiting(order);
  const cancelled = order.backorder?.cancelledLines ?? [];
  const allocated = (order.allocations ?? []).length > 0;
  if (cancelled.length > 0) {
    try {
      await recordStage(orderId, 'OrderBackorderCancelled', allocated ? { status: 'RESERVED' } : {}, {
        cancelled,
      });
    } catch (error) {
      if (!(error instanceof OrderClosed)) throw error;
    }
    if (!order.stages.OrderBackorderCancelledNotified) {
      const customer = await customers.find(order.customerId);
      if (customer) {
        await mailer.send({ to: [customer.email], ...backorderCancelledEmail(orderId, cancelled, allocated) });
      }
      await orders.recordStage(orderId, 'OrderBackorderCancelledNotified', clock()).catch((error: unknown) => {
        if (!(error instanceof OrderClosed)) throw error;
      });
    }
  }
  return answer(order);
});

/** What the workflow reads: still waiting, when it expires, what is left to ship. */
function answer(order: Order) {
  const waiting = order.backorder?.lines.length ?? 0;
  const expiresAt = order.backorder?.expiresAt;
  const seconds = expiresAt ? Math.ceil((Date.parse(expiresAt) - clock().getTime()) / 1000) : 1;
  return {
    backordered: waiting > 0,
    backorderSeconds: Math.max(1, seconds),
    allocations: toShip(order),
    allocated: (order.allocations ?? []).length > 0,
  };
}

/** Cancels what still waits (its lines become `cancelledLines`), retried when the backorder changed meanwhile. */
const cancelWaiting = (order: Order): Promise<Order> => cancelBackorderRemainder({ orders, ledger }, order.orderId);

/** The customer's e-mail on a remainder cancellation, once: what will not ship, with the canceller's reason. */
async function notifyRemainderCancelled(order: Order): Promise<void> {
  if (order.stages.OrderCancelledNotified || !order.cancellation) return;
  const { open } = cancellableShipments(order);
  const cancelled: StockLine[] = [
    ...(order.allocations ?? []).filter((a) => open.includes(a.allocationId)).flatMap((a) => a.lines),
    ...(order.backorder?.cancelledLines ?? []),
  ];
  const customer = await customers.find(order.customerId);
  if (customer && cancelled.length > 0) {
    await mailer.send({
      to: [customer.email],
      ...cancellationEmail({
        orderId: order.orderId,
        kind: 'remainder',
        reason: order.cancellation.reason,
        cancelled: merge(cancelled),
      }),
    });
  }
  await orders.recordStage(order.orderId, 'OrderCancelledNotified', clock()).catch((error: unknown) => {
    if (!(error instanceof OrderClosed)) throw error;
  });
}

function merge(lines: readonly StockLine[]): StockLine[] {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of lines) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity }));
}
