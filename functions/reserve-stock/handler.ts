import { OrderRef } from '../core/schemas.ts';
import { clock, eventPublisher, ordersRepository, stockLedger } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const catalog = stockLedger();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/** ReserveStock: all lines or none, in one transaction. Throws OutOfStock (named lines) or StockContention (retried). */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const lines = order.lines ?? [];
  await catalog.reserve(orderId, lines, clock());
  await recordStage(orderId, 'OrderStockReserved', { status: 'RESERVED' });
  return { reserved: lines.map(({ sku, quantity }) => ({ sku, quantity })) };
});
