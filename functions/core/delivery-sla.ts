import { isTerminal } from './order.ts';
import type { Order } from './schemas.ts';

/** Days after its shipment a parcel still waiting for delivery counts as overdue. */
export const DEFAULT_DELIVERY_SLA_DAYS = 7;

const AWAITING_CARRIER = new Set(['CREATED', 'IN_TRANSIT']);

/**
 * When the oldest parcel of an open order that is overdue for delivery shipped, or undefined when
 * none is. A parcel is overdue when it is still on its way (booked or in transit, neither delivered,
 * lost nor cancelled) more than `slaDays` after its own shipment (`shippedAt`, its booking): a split
 * or backordered order's later parcels are timed from when they left, not from the first. A parcel
 * booked before shipments carried their time counts from the order's first shipment (`stages.OrderShipped`).
 */
export function deliveryOverdueSince(
  order: Pick<Order, 'status' | 'stages' | 'shipments'>,
  now: Date,
  slaDays: number,
): string | undefined {
  if (isTerminal(order.status)) return undefined;
  const overdue = order.shipments
    .filter((shipment) => AWAITING_CARRIER.has(shipment.status))
    .map((shipment) => shipment.shippedAt ?? order.stages?.OrderShipped)
    .filter((shipped): shipped is string => shipped !== undefined)
    .filter((shipped) => now.getTime() - Date.parse(shipped) > slaDays * 86_400_000)
    .sort((a, b) => Date.parse(a) - Date.parse(b));
  return overdue[0];
}

/** An open order with a parcel on its way longer than the SLA (deliveryOverdueSince). */
export function deliveryOverdue(
  order: Pick<Order, 'status' | 'stages' | 'shipments'>,
  now: Date,
  slaDays: number,
): boolean {
  return deliveryOverdueSince(order, now, slaDays) !== undefined;
}
