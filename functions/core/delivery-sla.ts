import { isTerminal } from './order.ts';
import type { Order } from './schemas.ts';

/** Days after its first shipment an order still waiting for delivery counts as overdue. */
export const DEFAULT_DELIVERY_SLA_DAYS = 7;

const AWAITING_CARRIER = new Set(['CREATED', 'IN_TRANSIT']);

/**
 * An open order is overdue for delivery when it shipped more than `slaDays` ago (its first
 * shipment, `stages.OrderShipped`) and a parcel is still on its way (booked or in transit, neither
 * delivered, lost nor cancelled).
 */
export function deliveryOverdue(
  order: Pick<Order, 'status' | 'stages' | 'shipments'>,
  now: Date,
  slaDays: number,
): boolean {
  if (isTerminal(order.status)) return false;
  const shipped = order.stages?.OrderShipped;
  if (!shipped) return false;
  if (now.getTime() - Date.parse(shipped) <= slaDays * 86_400_000) return false;
  return order.shipments.some((shipment) => AWAITING_CARRIER.has(shipment.status));
}
