import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * The roles table of the API, enforced by the local runtime exactly as the synthesized template
 * declares it (JWT authorizer, route scopes, app clients, groups, pre-token-generation trigger),
 * with real tokens from the local issuer, over real HTTP.
 */
let runtime: LocalRuntime;
let client: TestClient;
let checkoutOrder: string;
let otherCustomersOrder: string;

const CLIENTS = ['checkout', 'buyer', 'erp', 'rep', 'ops', 'finance', 'approver'] as const;
type ClientId = (typeof CLIENTS)[number];

/** Who may call what, as the product's roles table says (allowed: 2xx; everyone else: 403). */
const MAY: Record<string, ClientId[]> = {
  'POST /orders': ['checkout', 'buyer', 'rep'],
  'GET /orders': ['buyer', 'rep', 'ops'],
  'POST /order-entries': ['rep'],
  'GET /orders/{orderId}': ['checkout', 'buyer', 'rep', 'ops'],
  'GET /products': ['checkout', 'buyer', 'erp', 'rep', 'ops'],
  'PUT /products/{sku}/stock': ['erp'],
  'POST /products/{sku}/stock/adjustments': ['erp', 'ops'],
  'GET /customers': ['rep', 'ops'],
  'GET /kpis': ['ops', 'finance'],
};

beforeAll(async () => {
  runtime = await startTestRuntime({ autoDeliver: false });
  client = new TestClient(runtime);
  checkoutOrder = await client.as('checkout').placeOrder(orderBody());
  otherCustomersOrder = await client.as('rep').placeOrder(orderBody({ customerId: 'CUST-1003' }));
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
});

const calls: Record<string, (as: TestClient) => Promise<{ status: number; body?: Record<string, any> }>> = {
  'POST /orders': (as) =>
    as.request('POST', '/orders', orderBody(), { 'idempotency-key': `roles-${crypto.randomUUID()}` }),
  'GET /orders': (as) => as.request('GET', '/orders?limit=1'),
  'POST /order-entries': (as) =>
    as.request(
      'POST',
      '/order-entries',
      { customerId: 'CUST-1002', lines: [{ sku: 'CABLE-USB-C', quantity: 1 }] },
      { 'idempotency-key': `roles-${crypto.randomUUID()}` },
    ),
  'GET /orders/{orderId}': (as) => as.request('GET', `/orders/${checkoutOrder}`),
  'GET /products': (as) => as.request('GET', '/products'),
  'PUT /products/{sku}/stock': async (as) => {
    const berlin = (await client.product('CABLE-USB-C')).warehouses.find(
      (w: { warehouseId: string }) => w.warehouseId === 'WH-BERLIN',
    ) as { onHand: number };
    return as.request('PUT', '/products/CABLE-USB-C/stock', { onHand: berlin.onHand });
  },
  'POST /products/{sku}/stock/adjustments': (as) =>
    as.request('POST', '/products/CABLE-USB-C/stock/adjustments', { delta: 1, reason: 'roles check' }),
  'GET /customers': (as) => as.request('GET', '/customers'),
  'GET /kpis': (as) => as.request('GET', '/kpis?from=2026-11-01&to=2026-11-30'),
};

describe('roles: every client on every route', () => {
  it("reads the authorizer and each route's scopes from the synthesized template", () => {
    const { routes, authorizers, identity } = runtime.deployment;
    const scopes = Object.fromEntries(routes.map((r) => [r.routeKey, [r.authorizationType, ...r.authorizationScopes]]));
    expect(scopes).toEqual({
      'POST /orders': ['JWT', 'sales/orders.place'],
      'GET /orders': ['JWT', 'sales/orders.search'],
      'GET /orders/{orderId}': ['JWT', 'sales/orders.read'],
      'POST /orders/{orderId}/cancel': ['JWT', 'sales/orders.cancel'],
      'POST /order-entries': ['JWT', 'sales/orders.enter'],
      'GET /products': ['JWT', 'sales/catalog.read'],
      'PUT /products/{sku}/stock': ['JWT', 'sales/stock.write'],
      'POST /products/{sku}/stock/adjustments': ['JWT', 'sales/stock.adjust'],
      'GET /customers': ['JWT', 'sales/customers.read'],
      'GET /kpis': ['JWT', 'sales/kpis.read'],
      'GET /invoices': ['JWT', 'sales/invoices.read'],
      'GET /invoices/{number}': ['JWT', 'sales/invoices.read'],
      'GET /invoices/{number}/pdf': ['JWT', 'sales/invoices.read'],
      'POST /invoices/{number}/credit-notes': ['JWT', 'sales/credit-notes.write'],
      'POST /invoices/{number}/payments': ['JWT', 'sales/payments.write'],
      'GET /credit-notes/{number}': ['JWT', 'sales/invoices.read'],
      'GET /credit-notes/{number}/pdf': ['JWT', 'sales/invoices.read'],
      'POST /approvals/{approvalId}': ['JWT', 'sales/approvals.write'],
      'POST /webhooks/carrier': ['NONE'],
      'POST /webhooks/crm': ['NONE'],
      // The survey's signed, single-use token is its authorization.
      'GET /feedback/{token}': ['NONE'],
      'POST /feedback/{token}': ['NONE'],
      'GET /health': ['NONE'],
      'GET /openapi.json': ['NONE'],
    });
    expect(authorizers).toEqual([
      {
        id: expect.any(String),
        issuer: identity?.issuer,
        audience: ['checkout', 'erp', 'buyer', 'staff'],
        identitySource: ['$request.header.Authorization'],
      },
    ]);
  });

  for (const [route, allowed] of Object.entries(MAY)) {
    for (const clientId of CLIENTS) {
      const may = allowed.includes(clientId);
      it(`${route} as ${clientId}: ${may ? 'allowed' : '403'}`, async () => {
        const response = await (calls[route] as (as: TestClient) => Promise<{ status: number; body?: unknown }>)(
          client.as(clientId),
        );
        if (may) expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
        else expect(response).toEqual({ status: 403, body: { message: 'Forbidden' } });
      });
    }
  }

  it('finance and approver hold the scopes of the routes later issues add', async () => {
    const scopesOf = async (id: string) =>
      JSON.parse(Buffer.from((await client.token(id)).split('.')[1] as string, 'base64url').toString()).scope.split(
        ' ',
      );
    expect(await scopesOf('finance')).toEqual(
      expect.arrayContaining(['sales/invoices.read', 'sales/payments.write', 'sales/kpis.read']),
    );
    expect(await scopesOf('approver')).toContain('sales/approvals.write');
    expect(await scopesOf('approver')).not.toContain('sales/orders.read');
    expect(await scopesOf('ops')).toContain('sales/operations.write');
  });

  it('serves the health check, the API description and the signed webhook without a token', async () => {
    const anonymous = client.as(null);
    expect((await anonymous.request('GET', '/health')).status).toBe(200);
    expect((await anonymous.request('GET', '/openapi.json')).status).toBe(200);
    // Reaches the handler, which refuses the missing signature (its own 401, not the authorizer's).
    const webhook = await anonymous.request('POST', '/webhooks/carrier', {
      trackingNumber: 'X',
      status: 'DELIVERED',
      occurredAt: new Date().toISOString(),
    });
    expect(webhook.status).toBe(401);
    expect(webhook.body?.error?.code).toBeDefined();
    // The survey answer's token is its authorization: a forged one is the handler's 401.
    const survey = await anonymous.request('POST', '/feedback/not-a-token', { score: 9 });
    expect(survey.status).toBe(401);
    expect(survey.body?.error?.code).toBe('InvalidFeedbackToken');
  });
});

describe('401 for anything but a valid token from the pool', () => {
  // Expiry needs a token the pool itself signed: test/local/auth.test.ts lets one expire.
  it('answers 401 without a token, and to malformed, foreign-signed, alg:none and HS256 tokens', async () => {
    const real = await client.token('checkout');
    const claims = JSON.parse(Buffer.from(real.split('.')[1] as string, 'base64url').toString());
    const { kid } = JSON.parse(Buffer.from(real.split('.')[0] as string, 'base64url').toString());
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const foreign = await generateKeyPair('RS256');
    const tokens: Record<string, string | undefined> = {
      none: undefined,
      malformed: 'Bearer eyJhbGciOi.broken',
      'foreign-signed': `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(foreign.privateKey)}`,
      'alg none': `Bearer ${b64({ alg: 'none', kid })}.${b64(claims)}.`,
      'HS256 with a guessed secret': `Bearer ${await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid })
        .sign(new TextEncoder().encode('local-checkout-secret'))}`,
    };
    for (const [name, authorization] of Object.entries(tokens)) {
      const response = await client
        .as(null)
        .request('GET', `/orders/${checkoutOrder}`, undefined, authorization ? { authorization } : {});
      expect(response, name).toEqual({ status: 401, body: { message: 'Unauthorized' } });
    }
    // The same request with the real token passes: the cases above fail for their token alone.
    expect(
      (await client.as(null).request('GET', `/orders/${checkoutOrder}`, undefined, { authorization: `Bearer ${real}` }))
        .status,
    ).toBe(200);
  });
});

describe('a customer-bound buyer client', () => {
  const buyer = () => client.as('buyer');

  it('carries its customer in the customer_id claim', async () => {
    const token = await client.token('buyer');
    expect(JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).customer_id).toBe(
      'CUST-1002',
    );
  });

  it('places orders for its own customer, recorded as placed by it', async () => {
    const orderId = await buyer().placeOrder(orderBody({ customerId: 'CUST-1002' }));
    const order = await buyer().order(orderId);
    expect(order.placedBy).toEqual({ kind: 'client', id: 'buyer' });
    expect(order.timeline[0]).toMatchObject({ type: 'OrderReceived', by: 'client:buyer' });
  });

  it('gets 403 placing an order for another customer, naming the field', async () => {
    const response = await buyer().request('POST', '/orders', orderBody({ customerId: 'CUST-1001' }), {
      'idempotency-key': `roles-${crypto.randomUUID()}`,
    });
    expect(response.status).toBe(403);
    expect(response.body?.error.issues).toEqual([{ path: 'customerId', message: expect.any(String) }]);
  });

  it("gets 404 for another customer's order, exactly as for an order that does not exist", async () => {
    const other = await buyer().request('GET', `/orders/${otherCustomersOrder}`);
    const missing = await buyer().request('GET', '/orders/ord-00000000000000000000000000');
    expect(other.status).toBe(404);
    expect(other.body?.error.code).toBe(missing.body?.error.code);
    expect(other.body?.error.message).toBe(
      missing.body?.error.message.replace('ord-00000000000000000000000000', otherCustomersOrder),
    );
    // Staff still see it.
    expect((await client.as('rep').request('GET', `/orders/${otherCustomersOrder}`)).status).toBe(200);
  });

  describe('asking for fewer scopes (without its customer scope)', () => {
    const FEWER = ['sales/orders.place', 'sales/orders.read', 'sales/orders.on-account'];
    const asFewer = async () => ({ authorization: `Bearer ${await client.token('buyer', FEWER)}` });

    it('still gets a token bound to its customer', async () => {
      const claims = JSON.parse(
        Buffer.from((await client.token('buyer', FEWER)).split('.')[1] as string, 'base64url').toString(),
      );
      expect(claims.customer_id).toBe('CUST-1002');
      expect(claims.scope.split(' ').sort()).toEqual([...FEWER, 'sales/customer.CUST-1002'].sort());
    });

    it('gets 403 billing another customer on account, or by card', async () => {
      for (const payment of [{ method: 'on_account' }, { method: 'card', token: 'tok_visa' }]) {
        const response = await client
          .as(null)
          .request('POST', '/orders', orderBody({ customerId: 'CUST-1003', payment }), {
            'idempotency-key': `roles-${crypto.randomUUID()}`,
            ...(await asFewer()),
          });
        expect(response.status, payment.method).toBe(403);
        expect(response.body?.error.issues).toEqual([{ path: 'customerId', message: expect.any(String) }]);
      }
    });

    it("gets 404 for another customer's order", async () => {
      const response = await client
        .as(null)
        .request('GET', `/orders/${otherCustomersOrder}`, undefined, await asFewer());
      expect(response.status).toBe(404);
    });
  });

  it("may bill its own customer's account", async () => {
    const response = await buyer().request(
      'POST',
      '/orders',
      orderBody({ customerId: 'CUST-1002', payment: { method: 'on_account' } }),
      { 'idempotency-key': `roles-${crypto.randomUUID()}` },
    );
    expect(response.status).toBe(202);
  });
});

describe('on-account billing and who placed an order', () => {
  it('refuses on-account orders from the web checkout with 403 naming the payment method', async () => {
    const response = await client
      .as('checkout')
      .request('POST', '/orders', orderBody({ customerId: 'CUST-1001', payment: { method: 'on_account' } }), {
        'idempotency-key': `roles-${crypto.randomUUID()}`,
      });
    expect(response.status).toBe(403);
    expect(response.body?.error.issues).toEqual([{ path: 'payment.method', message: expect.any(String) }]);
  });

  it('accepts on-account orders from a rep, recorded as placed by that user', async () => {
    const orderId = await client
      .as('rep')
      .placeOrder(orderBody({ customerId: 'CUST-1001', payment: { method: 'on_account' } }));
    const order = await client.as('ops').order(orderId);
    expect(order.placedBy).toEqual({ kind: 'user', id: 'rep', role: 'rep' });
    expect(order.timeline[0]).toMatchObject({ type: 'OrderReceived', by: 'user:rep' });
  });

  it('shows machine clients the person who placed an order by role only, never their username', async () => {
    const seen = await client.as('checkout').order(otherCustomersOrder);
    expect(seen.placedBy).toEqual({ kind: 'user', role: 'rep' });
    expect(seen.timeline[0]).toEqual({ at: expect.any(String), type: 'OrderReceived', by: 'user (rep)' });
    // Staff still see who it was.
    const staff = await client.as('ops').order(otherCustomersOrder);
    expect(staff.placedBy).toEqual({ kind: 'user', id: 'rep', role: 'rep' });
    expect(staff.timeline[0]).toMatchObject({ by: 'user:rep' });
  });

  it('keeps idempotency keys per caller: the same key from two clients makes two orders', async () => {
    const key = `shared-${crypto.randomUUID()}`;
    const fromCheckout = await client.as('checkout').placeOrder(orderBody(), key);
    const fromBuyer = await client.as('buyer').placeOrder(orderBody(), key);
    expect(fromBuyer).not.toBe(fromCheckout);
    expect(await client.as('checkout').placeOrder(orderBody(), key)).toBe(fromCheckout);
  });
});
