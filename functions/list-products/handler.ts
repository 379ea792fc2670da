import type { StockItem } from '../core/schemas.ts';
import { catalogRepository, stockRepository } from '../lib/deps.ts';
import { httpRoute, json } from '../lib/http.ts';

const catalog = catalogRepository();
const stock = stockRepository();

/** GET /products — catalog with live stock: summed over the warehouses, and per warehouse. */
export const handler = httpRoute(async () => {
  const [products, items] = await Promise.all([catalog.list(), stock.list()]);
  const bySku = new Map<string, StockItem[]>();
  for (const item of items) bySku.set(item.sku, [...(bySku.get(item.sku) ?? []), item]);
  return json(
    200,
    products.map(({ sku, ...product }) => {
      const warehouses = (bySku.get(sku) ?? [])
        .sort((a, b) => a.warehouseId.localeCompare(b.warehouseId))
        .map(({ warehouseId, onHand, reserved, available }) => ({ warehouseId, onHand, reserved, available }));
      const sum = (field: 'onHand' | 'reserved' | 'available') => warehouses.reduce((n, w) => n + w[field], 0);
      return {
        sku,
        ...product,
        onHand: sum('onHand'),
        reserved: sum('reserved'),
        available: sum('available'),
        warehouses,
      };
    }),
  );
});
