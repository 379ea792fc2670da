import { openApiDocument } from '../core/openapi.ts';
import { httpRoute, json } from '../lib/http.ts';

/** Generated on the first request (every schema converted), then served from memory: not at INIT. */
let document: Record<string, unknown> | undefined;

/** GET /openapi.json — the API contract, generated from the schemas the handlers validate with. */
export const handler = httpRoute(async () => {
  document ??= openApiDocument();
  return json(200, document);
});
