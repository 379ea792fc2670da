import { openApiDocument } from '../core/openapi.ts';
import { httpRoute, json } from '../lib/http.ts';

const document = openApiDocument();

/** GET /openapi.json — the API contract, generated from the schemas the handlers validate with. */
export const handler = httpRoute(async () => json(200, document));
