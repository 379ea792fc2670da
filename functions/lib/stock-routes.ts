import type { CatalogRepository } from '../adapters/catalog-repository.ts';
import type { StockRepository } from '../adapters/stock-repository.ts';
import { AdjustmentKeyReused, StockBelowReserved, WriteOffExceedsAvailable } from '../core/errors.ts';
import type { StockItem } from '../core/schemas.ts';
import { DEFAULT_WAREHOUSE, isWarehouse } from '../core/warehouses.ts';
import { HttpError } from './http.ts';

/** The warehouse a stock route names (default when omitted); 404 for an unknown product or warehouse. */
export async function stockTarget(catalog: CatalogRepository, sku: string, warehouseId: string | undefined) {
  const warehouse = warehouseId ?? DEFAULT_WAREHOUSE;
  if (!isWarehouse(warehouse))
    throw new HttpError(404, 'WarehouseNotFound', `Warehouse ${warehouse} does not exist`, [
      { path: 'warehouseId', message: 'is not a known warehouse' },
    ]);
  const product = (await catalog.getMany([sku])).get(sku);
  if (!product) throw new HttpError(404, 'ProductNotFound', `Product ${sku} does not exist`);
  return warehouse;
}

/** Stock refusals as 409s naming the quantity in the way. */
export function stockConflict(error: unknown): never {
  if (error instanceof StockBelowReserved)
    throw new HttpError(409, 'StockBelowReserved', error.message, [
      { path: 'onHand', message: `must be at least ${error.reserved} (reserved for orders)` },
    ]);
  if (error instanceof WriteOffExceedsAvailable)
    throw new HttpError(409, 'WriteOffExceedsAvailable', error.message, [
      { path: 'delta', message: `must be at least -${error.available} (available, not reserved)` },
    ]);
  if (error instanceof AdjustmentKeyReused)
    throw new HttpError(422, 'IdempotencyKeyReused', error.message, [
      { path: 'Idempotency-Key', message: 'was used for a different adjustment' },
    ]);
  throw error;
}

/**
 * The stock item a stock route answers: as it is after the waiting orders were served, so the
 * caller sees what they took (reserved, available), not the level before serving.
 */
export async function stockNow(stock: Pick<StockRepository, 'levels'>, item: StockItem, served: number) {
  if (served === 0) return item;
  return (await stock.levels([item.sku])).find((i) => i.warehouseId === item.warehouseId) ?? item;
}
