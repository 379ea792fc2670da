import { sumBySku } from './allocation.ts';
import type { Order, StockLine } from './schemas.ts';

/**
 * Shipment fields the quantities read. `lines`, `allocationId` and `invoiceNumber` come with
 * per-allocation shipments; a shipment without `lines` ships its allocation's lines (by
 * `allocationId`, or the only allocation of an order with one shipment).
 */
interface ShipmentView {
  status: string;
  allocationId?: string;
  lines?: StockLine[];
  invoiceNumber?: string;
}

export interface LineQuantities {
  sku: string;
  ordered: number;
  /** Held in a warehouse for this order, not yet shipped. */
  reserved: number;
  /** Waiting for stock. */
  backordered: number;
  /** Left the warehouse with the carrier. */
  shipped: number;
  delivered: number;
  invoiced: number;
  /** Will not be served: an expired backorder, or what was open when the order ended without it. */
  cancelled: number;
}

const LEFT = ['IN_TRANSIT', 'DELIVERED', 'LOST'];

type QuantitiesInput = Pick<Order, 'status' | 'requestedLines' | 'allocations' | 'backorder'> & {
  lines?: Array<{ sku: string; quantity: number }>;
  /** A single invoice for the whole order (orders invoiced before invoices per shipment). */
  invoice?: unknown;
  shipments: ShipmentView[];
};

/**
 * Per-line quantities derived from the order alone: ordered = reserved + backordered + shipped +
 * cancelled at every moment (delivered and invoiced are parts of shipped).
 */
export function lineQuantities(order: QuantitiesInput): LineQuantities[] {
  const ordered = order.lines ?? order.requestedLines;
  const allocations = order.allocations ?? [];
  const linesOf = (shipment: ShipmentView): StockLine[] => {
    if (shipment.lines) return shipment.lines;
    if (shipment.allocationId !== undefined)
      return allocations.find((a) => a.allocationId === shipment.allocationId)?.lines ?? [];
    // A shipment of the whole order (before shipments per allocation): it carries everything allocated.
    if (order.shipments.length !== 1) return [];
    return allocations.length > 0 ? allocations.flatMap((a) => a.lines) : ordered;
  };
  const shipmentsWhere = (test: (s: ShipmentView) => boolean) =>
    sumBySku(order.shipments.filter(test).flatMap(linesOf));
  const allocated = sumBySku(allocations.flatMap((a) => a.lines));
  const shipped = shipmentsWhere((s) => LEFT.includes(s.status));
  const delivered = shipmentsWhere((s) => s.status === 'DELIVERED');
  const perShipmentInvoices = order.shipments.some((s) => s.invoiceNumber !== undefined);
  // One invoice for the whole order (before per-shipment invoices): it covers what was delivered.
  const invoiced = perShipmentInvoices
    ? shipmentsWhere((s) => s.invoiceNumber !== undefined && LEFT.includes(s.status))
    : order.invoice
      ? delivered
      : new Map<string, number>();
  const backordered = sumBySku(order.backorder?.lines ?? []);
  const expired = sumBySku(order.backorder?.cancelledLines ?? []);
  const ended = ['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED'].includes(order.status);
  return ordered.map(({ sku, quantity }) => {
    const out = shipped.get(sku) ?? 0;
    const held = ended ? 0 : Math.max(0, (allocated.get(sku) ?? 0) - out);
    const waiting = ended ? 0 : (backordered.get(sku) ?? 0);
    const cancelled = ended ? Math.max(0, quantity - out) : Math.min(quantity, expired.get(sku) ?? 0);
    return {
      sku,
      ordered: quantity,
      reserved: held,
      backordered: waiting,
      shipped: out,
      delivered: delivered.get(sku) ?? 0,
      invoiced: invoiced.get(sku) ?? 0,
      cancelled,
    };
  });
}
