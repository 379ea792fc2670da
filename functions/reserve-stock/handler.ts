import { OrderRef } from '../core/schemas.ts';
import { clock, eventPublisher, ordersRepository, stockLedger } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const catalog = stockLedger();
const recordStage = stageRecorder(orders, eventPublisher(), clock);
/** Where stock is held until stock is kept per warehouse. */
const DEFAULT_WAREHOUSE = 'WH-BERLIN';

/**
 * ReserveStock: all lines or none, in one transaction. Throws OutOfStock (named lines) or
 * StockContention (retried). The reservation becomes one allocation (one shipment); the order's
 * allocations are returned for FulfilShipments (the ones recorded first, on a retry).
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const lines = (order.lines ?? []).map(({ sku, quantity }) => ({ sku, quantity }));
  const at = clock();
  await catalog.reserve(orderId, lines, at);
  const allocations = order.allocations ?? [
    { allocationId: 'A1', warehouseId: DEFAULT_WAREHOUSE, lines, at: at.toISOString() },
  ];
  // Allocations are append-only: ones already on the order (written after it was read here) stay.
  const stored = await recordStage(orderId, 'OrderStockReserved', { status: 'RESERVED', keep: { allocations } });
  return { allocations: stored.allocations ?? allocations };
});
