import { catalogRepository } from '../lib/deps.ts';
import { httpRoute, json } from '../lib/http.ts';

const catalog = catalogRepository();

/** GET /products — catalog with live stock. */
export const handler = httpRoute(async () => {
  const products = await catalog.list();
  return json(
    200,
    products.map(({ sku, name, taxCategory, prices, active, available, reserved }) => ({
      sku,
      name,
      taxCategory,
      prices,
      active,
      available,
      reserved,
    })),
  );
});
