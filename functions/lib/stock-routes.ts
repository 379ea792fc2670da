import type { Context } from 'aws-lambda';
import type { CatalogRepository } from '../adapters/catalog-repository.ts';
import type { StockRepository } from '../adapters/stock-repository.ts';
import { AdjustmentKeyReused, StockBelowReserved, WriteOffExceedsAvailable } from '../core/errors.ts';
import type { StockItem } from '../core/schemas.ts';
import { DEFAULT_WAREHOUSE, isWarehouse } from '../core/warehouses.ts';
import { type backorders as backorderService, whileTimeLeft } from './backorders.ts';
import { errorLabel, HttpError } from './http.ts';
import { logger } from './powertools.ts';

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
 * Serves the orders waiting for a SKU whose stock a route has just changed (as far as the function's
 * time allows) and answers the stock item as it is after that, so the caller sees what they took
 * (reserved, available). The change is made by then: a failure to serve (a fill that kept meeting
 * another serve, a workflow not resumed) is logged and left to the reconciler's sweep, never answered
 * as a failure the caller would send again (a receipt without an Idempotency-Key would count twice).
 */
export async function serveArrived(
  deps: { stock: Pick<StockRepository, 'levels'>; backorders: Pick<ReturnType<typeof backorderService>, 'serve'> },
  item: StockItem,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<StockItem> {
  try {
    if ((await deps.backorders.serve(item.sku, whileTimeLeft(context))) === 0) return item;
  } catch (error) {
    logger.error('Stock changed; the waiting orders are left to the sweep', { sku: item.sku, ...errorLabel(error) });
  }
  return (await deps.stock.levels([item.sku])).find((i) => i.warehouseId === item.warehouseId) ?? item;
}
