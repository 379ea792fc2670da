import { sumBySku } from './allocation.ts';
import { isTerminal } from './order.ts';
import type { CancellationKind, Order, StockLine } from './schemas.ts';

/**
 * Shipment fields cancellation reads. A shipment names its allocation (`allocationId`) once orders
 * ship per warehouse; one without covers every allocation (a single shipment for the whole order).
 */
export interface ShipmentView {
  status: string;
  allocationId?: string;
}

type CancellableOrder = Pick<Order, 'orderId' | 'status' | 'allocations' | 'backorder'> & {
  shipments: readonly ShipmentView[];
};

/**
 * Booked counts as shipped: a booking may be picked up by the carrier at any moment, so once a
 * shipment is recorded (BOOKING, CREATED) its goods are no longer cancelled — only a shipment
 * cancelled before it left (CANCELLED) gives its allocation back.
 */
const COMMITTED: readonly string[] = ['BOOKING', 'CREATED', 'IN_TRANSIT', 'DELIVERED', 'LOST'];

/**
 * The one place that knows how shipments map to allocations: which allocations are committed to a
 * shipment (booked or gone) and which can still be cancelled. Everything else reads this.
 */
export function cancellableShipments(order: CancellableOrder): { committed: string[]; open: string[] } {
  const allocations = order.allocations ?? [];
  const committed = new Set<string>();
  for (const shipment of order.shipments) {
    if (!COMMITTED.includes(shipment.status)) continue;
    if (shipment.allocationId === undefined) for (const a of allocations) committed.add(a.allocationId);
    else committed.add(shipment.allocationId);
  }
  return {
    committed: allocations.filter((a) => committed.has(a.allocationId)).map((a) => a.allocationId),
    open: allocations.filter((a) => !committed.has(a.allocationId)).map((a) => a.allocationId),
  };
}

export type CancellationDecision =
  | { kind: CancellationKind; reason: string; cancelled: StockLine[] }
  | { kind: 'refused'; reason: string };

/**
 * What a cancellation asked now would do. `whole`: nothing is committed to a shipment (and no
 * single shipment covers the order), the order ends CANCELLED; `remainder`: some allocations are
 * committed, the open ones and the backorder are cancelled and the order completes with the rest;
 * `refused`: the order ended, or everything ordered is committed to shipments.
 */
export function decideCancellation(order: CancellableOrder & Pick<Order, 'requestedLines'>): CancellationDecision {
  if (isTerminal(order.status)) return { kind: 'refused', reason: `Order ${order.orderId} is already ${order.status}` };
  const wholeOrderShipment = order.shipments.some((s) => s.allocationId === undefined && COMMITTED.includes(s.status));
  const { committed, open } = cancellableShipments(order);
  const allocations = order.allocations ?? [];
  const waiting = order.backorder?.lines ?? [];
  if (wholeOrderShipment || (committed.length > 0 && open.length === 0 && waiting.length === 0))
    return {
      kind: 'refused',
      reason: `Order ${order.orderId} has been handed to the carrier in full (a booked shipment counts as shipped); nothing is left to cancel`,
    };
  const openLines = allocations.filter((a) => open.includes(a.allocationId)).flatMap((a) => a.lines);
  if (committed.length === 0) {
    const everything = allocations.length > 0 || waiting.length > 0 ? [...openLines, ...waiting] : order.requestedLines;
    return { kind: 'whole', reason: 'Nothing has been shipped', cancelled: merge(everything) };
  }
  return {
    kind: 'remainder',
    reason: 'Part of the order has been shipped: only what has not is cancelled',
    cancelled: merge([...openLines, ...waiting]),
  };
}

function merge(lines: readonly { sku: string; quantity: number }[]): StockLine[] {
  return [...sumBySku(lines.map(({ sku, quantity }) => ({ sku, quantity })))].map(([sku, quantity]) => ({
    sku,
    quantity,
  }));
}

/** The customer's e-mail on a cancellation: what was cancelled, and that nothing is charged for it. */
export function cancellationEmail(args: {
  orderId: string;
  kind: CancellationKind;
  reason: string;
  cancelled: readonly StockLine[];
}): { subject: string; text: string } {
  const list = args.cancelled.map((l) => `  ${l.quantity} x ${l.sku}`).join('\n');
  return args.kind === 'whole'
    ? {
        subject: `Order ${args.orderId} cancelled`,
        text: `Your order ${args.orderId} is cancelled (${args.reason}). Nothing is charged; any card authorization is released.\n\nCancelled:\n${list}\n`,
      }
    : {
        subject: `Order ${args.orderId}: items cancelled`,
        text: `These items of your order ${args.orderId} are cancelled (${args.reason}) and will not be charged:\n${list}\n\nWhat has shipped is delivered and invoiced as planned.\n`,
      };
}
