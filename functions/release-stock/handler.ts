import * as z from 'zod/mini';
import { lazySchema } from '../core/lazy-schema.ts';
import { OrderRef } from '../core/schemas.ts';
import { orderCompensations, ordersRepository } from '../lib/deps.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const compensate = orderCompensations(orders);

/**
 * ReleaseStock (compensation): cancels a booked shipment whose parcel has not left, then returns
 * held stock (and the stock of the cancelled shipment). Stock that left with the carrier stays
 * shipped. A retry announces OrderStockReleased again. With `allocationId`: only that allocation's
 * held stock (a cancelled order's allocation that was not booked).
 */
export const handler = workflowTask(
  lazySchema(() => z.extend(OrderRef, { allocationId: z.optional(z.string().check(z.minLength(1))) })),
  async (input) => {
    const { orderId, allocationId } = input;
    // One allocation of a cancelled order that was not booked (FulfilShipments): only its stock goes back.
    if (allocationId) return { released: await compensate.releaseAllocation(orderId, allocationId) };
    const shipment = await compensate.cancelShipments(orderId);
    const released = await compensate.releaseStock(orderId);
    return { released, shipment };
  },
);
