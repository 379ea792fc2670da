import { OrderRef } from '../core/schemas.ts';
import { orderCompensations, ordersRepository } from '../lib/deps.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const compensate = orderCompensations(orders);

/**
 * ReleaseStock (compensation): cancels a booked shipment whose parcel has not left, then returns
 * held stock (and the stock of the cancelled shipment). Stock that left with the carrier stays
 * shipped. A retry announces OrderStockReleased again.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const shipment = await compensate.cancelShipments(orderId);
  const released = await compensate.releaseStock(orderId);
  return { released, shipment };
});
