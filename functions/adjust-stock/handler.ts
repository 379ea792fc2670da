import { principalLabel } from '../core/access.ts';
import { Sku, StockAdjustmentRequest } from '../core/schemas.ts';
import { callerOf } from '../lib/caller.ts';
import { backorderServer, catalogRepository, clock, stockRepository } from '../lib/deps.ts';
import { httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { logger } from '../lib/powertools.ts';
import { stockConflict, stockTarget } from '../lib/stock-routes.ts';

const catalog = catalogRepository();
const stock = stockRepository();
const backorders = backorderServer();

/**
 * POST /products/{sku}/stock/adjustments — a receipt (delta > 0) or write-off (delta < 0) in one
 * warehouse, recorded with who, when and why. A write-off may not touch reserved goods (409).
 */
export const handler = httpRoute(async (event) => {
  const caller = callerOf(event);
  const sku = pathParameter(event, 'sku', Sku);
  const { delta, reason, warehouseId } = parseOr400(StockAdjustmentRequest, jsonBody(event), 'stock adjustment');
  const warehouse = await stockTarget(catalog, sku, warehouseId);
  const adjustment = {
    adjustmentId: crypto.randomUUID(),
    sku,
    warehouseId: warehouse,
    delta,
    reason,
    by: principalLabel(caller.principal),
    at: clock().toISOString(),
  };
  const item = await stock.adjust(adjustment).catch(stockConflict);
  logger.info('Stock adjusted', { sku, warehouseId: warehouse, delta, by: adjustment.by });
  if (delta > 0) await backorders.serve(sku);
  return json(201, { adjustment, stock: item });
});
