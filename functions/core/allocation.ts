import type { ShortLine } from './errors.ts';
import { WAREHOUSE_IDS } from './warehouses.ts';

export interface StockRequest {
  sku: string;
  quantity: number;
}

/** What can be taken now: sku -> warehouseId -> available. */
export type Availability = ReadonlyMap<string, ReadonlyMap<string, number>>;

export interface PlannedAllocation {
  warehouseId: string;
  lines: StockRequest[];
}

export interface AllocationPlan {
  /** One per warehouse, in preference order; each becomes one shipment. */
  allocations: PlannedAllocation[];
  /** What could not be served now (quantity > 0 only). */
  backorder: StockRequest[];
}

const availableAt = (levels: Availability, sku: string, warehouseId: string) =>
  Math.max(0, levels.get(sku)?.get(warehouseId) ?? 0);

/**
 * The allocation rule. When one warehouse can serve the whole order, the first such warehouse in
 * preference order serves all of it (one shipment). Otherwise each line is taken from the default
 * warehouse first, then from the others in their fixed order, as much as each has; what no
 * warehouse has is backordered. Pure: the reservation's transaction decides with conditions.
 */
export function allocate(
  lines: readonly StockRequest[],
  levels: Availability,
  warehouses: readonly string[] = WAREHOUSE_IDS,
): AllocationPlan {
  const wanted = lines.filter((line) => line.quantity > 0);
  if (wanted.length === 0) return { allocations: [], backorder: [] };
  const single = warehouses.find((w) => wanted.every((line) => availableAt(levels, line.sku, w) >= line.quantity));
  if (single !== undefined) {
    return {
      allocations: [{ warehouseId: single, lines: wanted.map(({ sku, quantity }) => ({ sku, quantity })) }],
      backorder: [],
    };
  }
  const byWarehouse = new Map<string, StockRequest[]>(warehouses.map((w) => [w, []]));
  const backorder: StockRequest[] = [];
  for (const line of wanted) {
    let remaining = line.quantity;
    for (const warehouseId of warehouses) {
      const take = Math.min(remaining, availableAt(levels, line.sku, warehouseId));
      if (take > 0) {
        byWarehouse.get(warehouseId)?.push({ sku: line.sku, quantity: take });
        remaining -= take;
      }
      if (remaining === 0) break;
    }
    if (remaining > 0) backorder.push({ sku: line.sku, quantity: remaining });
  }
  const allocations = [...byWarehouse]
    .filter(([, taken]) => taken.length > 0)
    .map(([warehouseId, taken]) => ({ warehouseId, lines: taken }));
  return { allocations, backorder };
}

/** Total available per sku over all warehouses. */
export function totalAvailable(levels: Availability): Map<string, number> {
  return new Map(
    [...levels].map(([sku, byWarehouse]) => [
      sku,
      [...byWarehouse.values()].reduce((sum, n) => sum + Math.max(0, n), 0),
    ]),
  );
}

/**
 * Which lines cannot be served from the stock levels given. Used to explain an all-or-nothing
 * reservation that was refused.
 */
export function shortLines(requested: readonly StockRequest[], available: ReadonlyMap<string, number>): ShortLine[] {
  return requested
    .map((line) => ({ sku: line.sku, requested: line.quantity, available: available.get(line.sku) ?? 0 }))
    .filter((line) => line.available < line.requested);
}

/** Allocation ids are A1, A2, … in the order they were made; the next one after `existing`. */
export const nextAllocationIds = (existingCount: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `A${existingCount + i + 1}`);

/** Sums lines per sku (lines of several allocations or shipments). */
export function sumBySku(lines: Iterable<StockRequest>): Map<string, number> {
  const sums = new Map<string, number>();
  for (const line of lines) sums.set(line.sku, (sums.get(line.sku) ?? 0) + line.quantity);
  return sums;
}

/** `requested` minus `served`, per sku, keeping only what is still positive. */
export function remainder(requested: readonly StockRequest[], served: Iterable<StockRequest>): StockRequest[] {
  const got = sumBySku(served);
  return requested
    .map((line) => ({ sku: line.sku, quantity: line.quantity - (got.get(line.sku) ?? 0) }))
    .filter((line) => line.quantity > 0);
}
