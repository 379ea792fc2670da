import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../functions/core/openapi.ts';

describe('OpenAPI document', () => {
  const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, any>> };

  it('describes every route of the API', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/approvals/{approvalId}',
      '/credit-notes/{number}',
      '/credit-notes/{number}/pdf',
      '/customers',
      '/feedback/{token}',
      '/health',
      '/invoices',
      '/invoices/{number}',
      '/invoices/{number}/credit-notes',
      '/invoices/{number}/payments',
      '/invoices/{number}/pdf',
      '/kpis',
      '/openapi.json',
      '/order-entries',
      '/orders',
      '/orders/{orderId}',
      '/orders/{orderId}/cancel',
      '/products',
      '/products/{sku}/stock',
      '/products/{sku}/stock/adjustments',
      '/webhooks/carrier',
      '/webhooks/crm',
    ]);
  });

  it('describes the survey routes: an HTML page and the answer from its zod schema, both without a token', () => {
    const survey = doc.paths['/feedback/{token}'];
    expect(survey?.get.responses['200'].content).toHaveProperty('text/html');
    expect(survey?.get.security).toEqual([]);
    expect(survey?.post.security).toEqual([]);
    const body = survey?.post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['score']);
    expect(body.properties.score).toMatchObject({ type: 'integer', minimum: 0, maximum: 10 });
    expect(body.properties.comment).toMatchObject({ type: 'string', maxLength: 1000 });
    expect(Object.keys(survey?.post.responses).sort()).toEqual(['200', '201', '400', '401', '404', '409', '410']);
  });

  it('takes the order request schema from the zod schema the handler validates with', () => {
    const body = doc.paths['/orders']?.post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['customerId', 'currency', 'lines', 'shippingAddress', 'payment']);
    expect(body.properties.lines.maxItems).toBe(50);
    expect(body.properties.lines.items.properties.quantity).toMatchObject({ type: 'integer', exclusiveMinimum: 0 });
    expect(body.properties.shippingAddress.properties.country.pattern).toBe('^[A-Z]{2}$');
    expect(doc.paths['/orders']?.post.parameters[0]).toMatchObject({
      name: 'Idempotency-Key',
      in: 'header',
      required: true,
    });
  });

  it('describes the order search with its parameters and the summary page from the zod schemas', () => {
    const search = doc.paths['/orders']?.get;
    expect(search.parameters.map((p: { name: string }) => p.name)).toEqual([
      'customerId',
      'status',
      'channel',
      'from',
      'to',
      'limit',
      'cursor',
    ]);
    expect(search.parameters[2].schema.enum).toEqual(['web', 'crm', 'email', 'rep', 'import']);
    const page = search.responses['200'].content['application/json'].schema;
    expect(page.required).toEqual(['orders']);
    expect(page.properties.orders.items.required).toEqual(
      expect.arrayContaining([
        'orderId',
        'status',
        'customerId',
        'channel',
        'currency',
        'total',
        'createdAt',
        'updatedAt',
      ]),
    );
    expect(search.security).toEqual([{ bearer: ['sales/orders.search'] }]);
    expect(Object.keys(search.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
  });

  it('takes the order entry from its zod schema: the channel optional (rep), the customer and lines required', () => {
    const entry = doc.paths['/order-entries']?.post;
    const body = entry.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['customerId', 'lines']);
    expect(body.properties.channel).toMatchObject({ enum: ['rep', 'import'], default: 'rep' });
    expect(body.properties.lines.items.required).toEqual(['sku', 'quantity']);
    expect(body.properties.payment.enum).toEqual(['card', 'on_account']);
    expect(entry.parameters[0]).toMatchObject({ name: 'Idempotency-Key', in: 'header', required: true });
    expect(entry.security).toEqual([{ bearer: ['sales/orders.enter'] }]);
    expect(Object.keys(entry.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '403', '422']));
    // A duplicate in flight gets the first one's 202: the intake has no 409 to retry after.
    for (const path of ['/orders', '/order-entries'])
      expect(Object.keys(doc.paths[path]?.post.responses), path).not.toContain('409');
    const view = doc.paths['/orders/{orderId}']?.get.responses['200'].content['application/json'].schema;
    expect(view.properties.channel.enum).toEqual(['web', 'crm', 'email', 'rep', 'import']);
  });

  it("declares each operation's access: a bearer token with the route scopes, or none for the public routes", () => {
    expect(doc.paths['/customers']?.get.security).toEqual([{ bearer: ['sales/customers.read'] }]);
    expect(doc.paths['/products/{sku}/stock']?.put.security).toEqual([{ bearer: ['sales/stock.write'] }]);
    expect(doc.paths['/approvals/{approvalId}']?.post.security).toEqual([{ bearer: ['sales/approvals.write'] }]);
    expect(doc.paths['/products/{sku}/stock/adjustments']?.post.security).toEqual([{ bearer: ['sales/stock.adjust'] }]);
    expect(Object.keys(doc.paths['/products/{sku}/stock/adjustments']?.post.responses)).toEqual(
      expect.arrayContaining(['201', '200', '409', '422']),
    );
    expect(doc.paths['/orders']?.post.responses['401']).toBeDefined();
    for (const [path, method] of [
      ['/health', 'get'],
      ['/openapi.json', 'get'],
      ['/webhooks/carrier', 'post'],
      ['/webhooks/crm', 'post'],
    ] as const) {
      expect(doc.paths[path]?.[method].security, path).toEqual([]);
    }
    expect((openApiDocument() as Record<string, any>).components.securitySchemes.bearer.scheme).toBe('bearer');
  });
});
