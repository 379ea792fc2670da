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
