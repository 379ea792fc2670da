import { ProductNotFound } from '../adapters/catalog-repository.ts';
import { principalLabel } from '../core/access.ts';
import { Sku, StockLevel } from '../core/schemas.ts';
import { callerOf } from '../lib/caller.ts';
import { catalogRepository } from '../lib/deps.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { logger } from '../lib/powertools.ts';

const catalog = catalogRepository();

/** PUT /products/{sku}/stock — the warehouse/ERP sync point for the sellable quantity. */
export const handler = httpRoute(async (event) => {
  const caller = callerOf(event);
  const sku = pathParameter(event, 'sku', Sku);
  const { available } = parseOr400(StockLevel, jsonBody(event), 'stock level');
  try {
    const product = await catalog.setAvailable(sku, available);
    logger.info('Stock level set', { sku, available, by: principalLabel(caller.principal) });
    return json(200, { sku: product.sku, available: product.available, reserved: product.reserved });
  } catch (error) {
    if (error instanceof ProductNotFound) throw new HttpError(404, 'ProductNotFound', error.message);
    throw error;
  }
});
