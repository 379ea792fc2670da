/**
 * The warehouses stock is kept in. The order is the allocation preference: the default warehouse
 * first, then the others in this fixed order (functions/core/allocation.ts).
 */
export const WAREHOUSES = [
  { warehouseId: 'WH-BERLIN', name: 'Berlin' },
  { warehouseId: 'WH-ROTTERDAM', name: 'Rotterdam' },
] as const;

export type WarehouseId = (typeof WAREHOUSES)[number]['warehouseId'];
export const DEFAULT_WAREHOUSE: WarehouseId = 'WH-BERLIN';
export const WAREHOUSE_IDS: readonly WarehouseId[] = WAREHOUSES.map((w) => w.warehouseId);
export const isWarehouse = (id: string): id is WarehouseId => (WAREHOUSE_IDS as readonly string[]).includes(id);

/** DynamoDB's limit on the items of one transaction. */
export const TRANSACTION_ITEM_LIMIT = 100;

/**
 * The most items a reservation (or a backorder fill) of `lineCount` lines can write in its one
 * transaction: the reservation record and the order, a stock move per line and warehouse it may
 * be split over, and (ship_available) a BACKORDER item per line.
 */
export function reservationItems(lineCount: number, policy: 'all_or_nothing' | 'ship_available'): number {
  return 2 + lineCount * (WAREHOUSE_IDS.length + (policy === 'ship_available' ? 1 : 0));
}

/** The most lines an order with this policy may have so that its reservation fits one transaction. */
export function maxLinesFor(policy: 'all_or_nothing' | 'ship_available'): number {
  let lines = 0;
  while (reservationItems(lines + 1, policy) <= TRANSACTION_ITEM_LIMIT) lines++;
  return lines;
}
