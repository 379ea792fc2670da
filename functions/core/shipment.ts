import type { Allocation, Order, PricedLine, Shipment, TaxByRate, Totals } from './schemas.ts';
import { taxOn } from './tax.ts';

/** The shipment of an allocation: one per allocation, under a deterministic id (a retried booking finds it). */
export const shipmentIdOf = (orderId: string, allocationId: string) => `${orderId}-${allocationId}`;

type ChargedOrder = Pick<Order, 'orderId' | 'lines'> & { allocations?: readonly Allocation[] };

/**
 * What a shipment costs: its lines priced as on the order, with the order's VAT per rate. Every
 * amount is split by running sums over the allocations in their order (A1, A2, …), each shipment
 * taking the difference between the running sum with it and without it:
 *  - a line's net, discount and informative tax: `floor(amount × shipped so far / ordered)`;
 *  - the tax at each rate: `taxOn(nets at that rate so far)` (half up, as the order rounds it once per rate).
 * So each invoice states per-rate tax on its own nets (off by at most one minor unit from rounding
 * them alone), a shipment's charge never changes when later allocations are added, and once every
 * ordered unit is allocated the shipments add up to the order's lines, per-rate tax and total to the cent.
 */
export function shipmentCharge(order: ChargedOrder, allocationId: string): { lines: PricedLine[]; totals: Totals } {
  const allocations = order.allocations ?? [];
  const index = allocations.findIndex((a) => a.allocationId === allocationId);
  if (index < 0) throw new Error(`Order ${order.orderId} has no allocation ${allocationId}`);
  const charged = allocations.slice(0, index + 1).map((_, k) => linesOf(order, allocations, k));
  const lines = charged[index] ?? [];
  const netsByRate = (upTo: number) => {
    const nets = new Map<number, number>();
    for (const line of charged.slice(0, upTo).flat())
      nets.set(line.taxRateBasisPoints, (nets.get(line.taxRateBasisPoints) ?? 0) + line.lineSubtotal);
    return nets;
  };
  const before = netsByRate(index);
  const through = netsByRate(index + 1);
  const taxByRate: TaxByRate[] = [...new Set(lines.map((l) => l.taxRateBasisPoints))]
    .sort((a, b) => b - a)
    .map((rate) => {
      const net = (through.get(rate) ?? 0) - (before.get(rate) ?? 0);
      const tax = taxOn(through.get(rate) ?? 0, rate) - taxOn(before.get(rate) ?? 0, rate);
      return { rateBasisPoints: rate, net, tax };
    });
  const subtotal = taxByRate.reduce((sum, rate) => sum + rate.net, 0);
  const tax = taxByRate.reduce((sum, rate) => sum + rate.tax, 0);
  const discount = lines.reduce((sum, line) => sum + line.lineDiscount, 0);
  return { lines, totals: { subtotal, discount, tax, total: subtotal + tax, taxByRate } };
}

/** The priced lines of allocation `k`: each order line's amounts split by running quantity (see shipmentCharge). */
function linesOf(order: ChargedOrder, allocations: readonly Allocation[], k: number): PricedLine[] {
  const allocation = allocations[k];
  if (!allocation) return [];
  return allocation.lines.map((shipped) => {
    const line = (order.lines ?? []).find((l) => l.sku === shipped.sku);
    if (!line) throw new Error(`Order ${order.orderId} has no priced line for ${shipped.sku}`);
    const before = allocations
      .slice(0, k)
      .flatMap((a) => a.lines)
      .filter((l) => l.sku === shipped.sku)
      .reduce((sum, l) => sum + l.quantity, 0);
    const share = (amount: number) =>
      Math.floor((amount * (before + shipped.quantity)) / line.quantity) -
      Math.floor((amount * before) / line.quantity);
    return {
      ...line,
      quantity: shipped.quantity,
      lineDiscount: share(line.lineDiscount),
      lineSubtotal: share(line.lineSubtotal),
      lineTax: share(line.lineTax),
    };
  });
}

/** A shipment that has been charged for (captured, or invoiced): it goes, it is never cancelled. */
export const isCommitted = (shipment: Pick<Shipment, 'captureId' | 'invoiceNumber'>) =>
  Boolean(shipment.captureId || shipment.invoiceNumber);

/**
 * The allocations FulfilShipments still has to ship: those without a shipment yet (each allocation
 * becomes exactly one shipment), as Map items `{ allocationId }`.
 */
export function toShip(order: Pick<Order, 'allocations'> & { shipments: ReadonlyArray<{ allocationId?: string }> }) {
  const shipped = new Set(order.shipments.map((s) => s.allocationId));
  return (order.allocations ?? [])
    .filter((a) => !shipped.has(a.allocationId))
    .map(({ allocationId }) => ({ allocationId }));
}

/**
 * Where a per-shipment stage keeps its fact's time on the shipment (written once, carried by its event).
 * Never written before the record of its fact: `capturedAt` with or after `captureId` (so the one
 * transaction that records the capture also writes its time, and answers it), `invoicedAt` with
 * `invoiceNumber`, `shippedAt` with the booking's confirmation.
 */
export const SHIPMENT_FACT_TIME = {
  OrderShipped: 'shippedAt',
  OrderPaymentCaptured: 'capturedAt',
  OrderInvoiced: 'invoicedAt',
} as const;
export type ShipmentFactTime = (typeof SHIPMENT_FACT_TIME)[keyof typeof SHIPMENT_FACT_TIME];
