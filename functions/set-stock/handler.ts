import { principalLabel } from '../core/access.ts';
import { Sku, StockLevel } from '../core/schemas.ts';
import { callerOf } from '../lib/caller.ts';
import { backorderServer, catalogRepository, stockRepository } from '../lib/deps.ts';
import { httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { logger } from '../lib/powertools.ts';
import { serveArrived, stockConflict, stockTarget } from '../lib/stock-routes.ts';

const catalog = catalogRepository();
const stock = stockRepository();
const backorders = backorderServer();

/**
 * PUT /products/{sku}/stock — the warehouse/ERP sync point: the counted quantity on hand in one
 * warehouse (the default when none is named). What is reserved stays reserved (409 below it).
 */
export const handler = httpRoute(async (event, context) => {
  const caller = callerOf(event);
  const sku = pathParameter(event, 'sku', Sku);
  const { onHand, warehouseId } = parseOr400(StockLevel, jsonBody(event), 'stock level');
  const warehouse = await stockTarget(catalog, sku, warehouseId);
  const item = await stock.setOnHand(sku, warehouse, onHand).catch(stockConflict);
  logger.info('Stock on hand set', { sku, warehouseId: warehouse, onHand, by: principalLabel(caller.principal) });
  // Stock that arrived serves the orders waiting for it, oldest first.
  return json(200, item.available > 0 ? await serveArrived({ stock, backorders }, item, context) : item);
});
