import { OrderRef } from '../core/schemas.ts';
import { toShip } from '../core/shipment.ts';
import { numberEnv } from '../lib/config.ts';
import { clock, eventPublisher, ordersRepository, stockLedger } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const ledger = stockLedger();
const recordStage = stageRecorder(orders, eventPublisher(), clock);
/**
 * How long a backorder waits for stock before the rest is cancelled: the one source of the
 * backorder's expiresAt and of AwaitBackorder's timeout (TimeoutSecondsPath: backorderSeconds).
 */
const backorderDays = numberEnv('BACKORDER_DAYS', 14);

/**
 * ReserveStock: allocates the lines across the warehouses in one transaction (core/allocation.ts).
 * all_or_nothing: OutOfStock (named lines) when any line is short. ship_available: what is in stock
 * is reserved and the rest backordered (BACKORDERED; `backordered: true` sends the workflow to
 * AwaitBackorder). StockContention is retried. Returns the allocations to ship now (FulfilShipments).
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const lines = (order.lines ?? order.requestedLines).map(({ sku, quantity }) => ({ sku, quantity }));
  const policy = order.fulfilmentPolicy ?? 'all_or_nothing';
  const outcome = await ledger.reserve({ orderId, lines, policy }, clock(), backorderDays);
  // The order as reserved: what this reservation wrote on it with the stock, or on a repeat what an
  // earlier attempt wrote (read again). Stock arriving right after the commit may fill the backorder
  // before this answers: the workflow's CheckBackorder and AwaitBackorder read it as it is by then.
  const reserved =
    outcome === 'already-reserved'
      ? await orders.get(orderId)
      : {
          allocations: outcome.allocations,
          backorder: outcome.backorderExpiresAt
            ? { lines: outcome.backorder, expiresAt: outcome.backorderExpiresAt }
            : undefined,
          shipments: order.shipments,
        };
  const waiting = reserved.backorder?.lines ?? [];
  if ((reserved.allocations ?? []).length > 0)
    await recordStage(orderId, 'OrderStockReserved', waiting.length > 0 ? {} : { status: 'RESERVED' });
  if (waiting.length > 0)
    await recordStage(
      orderId,
      'OrderBackordered',
      { status: 'BACKORDERED' },
      {
        backorder: waiting,
        backorderedQuantity: waiting.reduce((sum, line) => sum + line.quantity, 0),
      },
    );
  return {
    backordered: waiting.length > 0,
    // What FulfilShipments ships now (on a repeat too: the allocations not shipped yet).
    allocations: toShip(reserved),
    backorderSeconds: backorderSeconds(reserved.backorder?.expiresAt, clock()),
  };
});

/** Seconds until the backorder expires (at least 1: TimeoutSecondsPath needs a positive integer). */
function backorderSeconds(expiresAt: string | undefined, now: Date): number {
  if (!expiresAt) return 1;
  return Math.max(1, Math.ceil((Date.parse(expiresAt) - now.getTime()) / 1000));
}
