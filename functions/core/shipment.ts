import { totalsOf } from './pricing.ts';
import type { Allocation, Order, PricedLine, Shipment, Totals } from './schemas.ts';

/** The shipment of an allocation: one per allocation, under a deterministic id (a retried booking finds it). */
export const shipmentIdOf = (orderId: string, allocationId: string) => `${orderId}-${allocationId}`;

/**
 * What a shipment costs: its lines priced as on the order. A line split over several allocations is
 * charged pro rata by cumulative quantity (allocations in their order A1, A2, …), so the shipments of
 * a line add up to the order's line to the cent, whatever the rounding.
 */
export function shipmentCharge(
  order: Pick<Order, 'orderId' | 'lines'> & { allocations?: readonly Allocation[] },
  allocationId: string,
): { lines: PricedLine[]; totals: Totals } {
  const allocations = order.allocations ?? [];
  const index = allocations.findIndex((a) => a.allocationId === allocationId);
  const allocation = allocations[index];
  if (!allocation) throw new Error(`Order ${order.orderId} has no allocation ${allocationId}`);
  const earlier = allocations.slice(0, index);
  const lines = allocation.lines.map((shipped) => {
    const line = (order.lines ?? []).find((l) => l.sku === shipped.sku);
    if (!line) throw new Error(`Order ${order.orderId} has no priced line for ${shipped.sku}`);
    const before = earlier
      .flatMap((a) => a.lines)
      .filter((l) => l.sku === shipped.sku)
      .reduce((sum, l) => sum + l.quantity, 0);
    const share = (amount: number) =>
      Math.floor((amount * (before + shipped.quantity)) / line.quantity) -
      Math.floor((amount * before) / line.quantity);
    return {
      ...line,
      quantity: shipped.quantity,
      lineSubtotal: share(line.lineSubtotal),
      lineTax: share(line.lineTax),
    };
  });
  return { lines, totals: totalsOf(lines) };
}

/** A shipment that has been charged for (captured, or invoiced): it goes, it is never cancelled. */
export const isCommitted = (shipment: Pick<Shipment, 'captureId' | 'invoiceNumber'>) =>
  Boolean(shipment.captureId || shipment.invoiceNumber);
