import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderSearchPage } from '../../functions/core/schemas.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * GET /orders on the local runtime, over HTTP with real tokens: a rep's search, a customer-bound
 * buyer client held to its customer, and each bad parameter refused by name.
 */
let runtime: LocalRuntime;
let client: TestClient;
const placed: Record<string, string[]> = { 'CUST-1002': [], 'CUST-1003': [] };
let rejected: string;

beforeAll(async () => {
  runtime = await startTestRuntime({ autoDeliver: false });
  client = new TestClient(runtime);
  // One after the other, so their creation times differ and the newest-first order is known.
  for (const who of ['buyer', 'checkout', 'buyer'] as const)
    placed['CUST-1002']?.push(await client.as(who).placeOrder(orderBody()));
  for (let i = 0; i < 2; i++)
    placed['CUST-1003']?.push(await client.as('rep').placeOrder(orderBody({ customerId: 'CUST-1003' })));
  // CUST-1004 is blocked: its order ends REJECTED, a status that does not move on.
  rejected = await client.as('rep').placeOrder(orderBody({ customerId: 'CUST-1004' }));
  await client.waitForStatus(rejected, 'REJECTED');
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
});

const search = (as: string, query = '') => client.as(as).request('GET', `/orders${query ? `?${query}` : ''}`);

/** Every page of a search as `as`, following nextCursor. */
async function allPages(as: string, query: string): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const response = await search(as, `${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const page = OrderSearchPage.parse(response.body);
    pages.push(page.orders.map((o) => o.orderId));
    cursor = page.nextCursor;
  } while (cursor && pages.length < 20);
  return pages;
}

describe('GET /orders', () => {
  it('lists every order to a rep, newest first, as summaries that name no person', async () => {
    const response = await search('rep');
    expect(response.status).toBe(200);
    const page = OrderSearchPage.parse(response.body);
    const ids = page.orders.map((o) => o.orderId);
    expect(new Set(ids)).toEqual(new Set([...(placed['CUST-1002'] ?? []), ...(placed['CUST-1003'] ?? []), rejected]));
    const created = page.orders.map((o) => o.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    expect(ids.at(0)).toBe(rejected);
    expect(page.nextCursor).toBeUndefined();
    const summary = response.body?.orders.find((o: { orderId: string }) => o.orderId === rejected);
    expect(Object.keys(summary).sort()).toEqual(
      ['channel', 'createdAt', 'currency', 'customerId', 'orderId', 'status', 'total', 'updatedAt'].sort(),
    );
    expect(summary).toMatchObject({ customerId: 'CUST-1004', status: 'REJECTED', channel: 'web', currency: 'EUR' });
    expect(JSON.stringify(response.body)).not.toContain('placedBy');
  });

  it('filters by customer and by status, and pages with a cursor without repeats or gaps', async () => {
    const globex = OrderSearchPage.parse((await search('rep', 'customerId=CUST-1003')).body);
    expect(globex.orders.map((o) => o.orderId)).toEqual([...(placed['CUST-1003'] ?? [])].reverse());
    const rejectedOnly = OrderSearchPage.parse((await search('ops', 'status=REJECTED')).body);
    expect(rejectedOnly.orders.map((o) => o.orderId)).toEqual([rejected]);
    const unpaged = OrderSearchPage.parse((await search('rep', 'channel=web')).body).orders.map((o) => o.orderId);
    expect(unpaged).toHaveLength(6);
    const pages = await allPages('rep', 'channel=web&limit=2');
    expect(pages.slice(0, 3).map((p) => p.length)).toEqual([2, 2, 2]);
    expect(pages.flat()).toEqual(unpaged);
  });

  it("holds a customer-bound buyer client to its own customer's orders", async () => {
    const own = [...(placed['CUST-1002'] ?? [])].reverse();
    expect((await allPages('buyer', 'limit=100')).flat()).toEqual(own);
    expect((await allPages('buyer', 'customerId=CUST-1002&limit=2')).flat()).toEqual(own);
    const other = await search('buyer', 'customerId=CUST-1003');
    expect(other.status).toBe(403);
    expect(other.body?.error.issues).toEqual([
      { path: 'customerId', message: 'must be your own customer (or left out)' },
    ]);
  });

  it('refuses callers without orders.search (the web checkout among them) at the gateway', async () => {
    for (const who of ['checkout', 'erp', 'finance', 'approver'])
      expect(await search(who)).toEqual({ status: 403, body: { message: 'Forbidden' } });
    expect((await client.as(null).request('GET', '/orders')).status).toBe(401);
  });

  it('answers 400 naming each bad parameter', async () => {
    const cases: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=many', 'limit'],
      ['status=shipped', 'status'],
      ['channel=fax', 'channel'],
      ['customerId=CUST%201002', 'customerId'],
      ['from=yesterday', 'from'],
      ['to=2026-02-30', 'to'],
      ['from=2026-03-02&to=2026-03-01', 'from'],
      ['from=2025-01-01&to=2025-12-31', 'from'], // a year of days to walk: narrow it or filter
      ['customer=CUST-1002', 'customer'],
      ['cursor=not+a+cursor', 'cursor'],
    ];
    for (const [query, field] of cases) {
      const response = await search('rep', query);
      expect(response.status, query).toBe(400);
      expect(response.body?.error.code, query).toBe('ValidationError');
      expect(
        response.body?.error.issues.map((i: { path: string }) => i.path),
        query,
      ).toEqual([field]);
    }
    // With a customer or a status the window is not limited.
    expect((await search('rep', 'status=REJECTED&from=2020-01-01')).status).toBe(200);
  });

  it('refuses a tampered cursor, and a cursor of another search or another caller', async () => {
    const first = OrderSearchPage.parse((await search('rep', 'limit=1')).body);
    const cursor = first.nextCursor as string;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await search('rep', `limit=1&cursor=${cursor}`)).status).toBe(200);
    const body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const tampered = Buffer.from(JSON.stringify({ ...body, t: '2030-01-01T00:00:00.000Z' })).toString('base64url');
    const refusals = [
      await search('rep', `limit=1&cursor=${tampered}`),
      await search('rep', `limit=1&cursor=${cursor.slice(0, -2)}`),
      await search('rep', `status=REJECTED&cursor=${cursor}`),
      await search('buyer', `cursor=${cursor}`),
    ];
    for (const response of refusals) {
      expect(response.status).toBe(400);
      expect(response.body?.error.issues.map((i: { path: string }) => i.path)).toEqual(['cursor']);
    }
    expect(refusals[0]?.body?.error.issues[0].message).toMatch(/altered/);
    expect(refusals[2]?.body?.error.issues[0].message).toMatch(/another search/);
  });
});
