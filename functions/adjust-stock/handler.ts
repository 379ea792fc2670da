import * as z from 'zod/mini';
import { principalLabel } from '../core/access.ts';
import { lazySchema } from '../core/lazy-schema.ts';
import { Sku, StockAdjustmentRequest } from '../core/schemas.ts';
import { callerOf } from '../lib/caller.ts';
import { backorderServer, catalogRepository, clock, stockRepository } from '../lib/deps.ts';
import { httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { logger } from '../lib/powertools.ts';
import { serveArrived, stockConflict, stockTarget } from '../lib/stock-routes.ts';

/** Optional: a client's retry with the same key is recorded once (answered 200 with the first adjustment). */
const AdjustmentKey = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^[A-Za-z0-9_.:-]{8,128}$/, 'must be 8-128 letters, digits or _ . : -')),
);

const catalog = catalogRepository();
const stock = stockRepository();
const backorders = backorderServer();

/**
 * POST /products/{sku}/stock/adjustments — a receipt (delta > 0) or write-off (delta < 0) in one
 * warehouse, recorded with who, when and why. A write-off may not touch reserved goods (409). With
 * an Idempotency-Key header a retry is recorded once.
 */
export const handler = httpRoute(async (event, context) => {
  const caller = callerOf(event);
  const sku = pathParameter(event, 'sku', Sku);
  const { delta, reason, warehouseId } = parseOr400(StockAdjustmentRequest, jsonBody(event), 'stock adjustment');
  const idempotencyKey = parseOr400(
    z.object({ 'idempotency-key': z.optional(AdjustmentKey) }),
    { 'idempotency-key': event.headers?.['idempotency-key'] },
    'Idempotency-Key header',
  )['idempotency-key'];
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
  const recorded = await stock.adjust(adjustment, idempotencyKey).catch(stockConflict);
  logger.info(recorded.replayed ? 'Stock adjustment repeated' : 'Stock adjusted', {
    sku,
    warehouseId: warehouse,
    delta,
    by: adjustment.by,
  });
  // Also on a repeat: the first attempt may have failed before it served the waiting orders.
  const stockAfter = delta > 0 ? await serveArrived({ stock, backorders }, recorded.stock, context) : recorded.stock;
  return json(recorded.replayed ? 200 : 201, { adjustment: recorded.adjustment, stock: stockAfter });
});
