import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrdersRepository } from '../../functions/adapters/orders-repository.ts';
import { newOrder } from '../../functions/core/order.ts';
import { encodeCursor, PAGE_BUDGET, planOrderSearch, type SearchRequest } from '../../functions/core/order-search.ts';
import type { Order, OrderChannel, OrderStatus } from '../../functions/core/schemas.ts';
import { type LocalTables, startTables } from '../support/tables.ts';

/**
 * The order search on DynamoDB Local, with the orders table and its search indexes as the OrderData
 * construct defines them: filters, newest first, paging without repeats or gaps, and the order items'
 * siblings (shipments, reservations, backorders, some with a status or customer) never listed.
 */
let t: LocalTables;
let orders: OrdersRepository;
const NOW = new Date('2026-03-15T12:00:00.000Z');
const HOUR = 3_600_000;

const CUSTOMERS = ['CUST-A', 'CUST-B', 'CUST-C'] as const;
const STATUSES: OrderStatus[] = ['RECEIVED', 'SHIPPED', 'DELIVERED', 'COMPLETED', 'CANCELLED'];
const CHANNELS: OrderChannel[] = ['web', 'crm', 'email', 'rep', 'import'];

interface Seeded {
  orderId: string;
  customerId: string;
  status: OrderStatus;
  channel: OrderChannel;
  createdAt: string;
}
const seeded: Seeded[] = [];

const request = (customerId: string) => ({
  customerId,
  currency: 'EUR',
  lines: [{ sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1250 }],
  shippingAddress: { name: 'A Buyer', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  payment: { method: 'on_account' as const },
});

beforeAll(async () => {
  t = await startTables();
  orders = new OrdersRepository(t.names.orders);
  // 45 orders, one every 7 hours back from NOW (about 13 days), spread over customers, statuses and channels.
  for (let i = 0; i < 45; i++) {
    const orderId = `ord-${String(i).padStart(26, '0')}`;
    const customerId = CUSTOMERS[i % 3] as string;
    const status = STATUSES[i % 5] as OrderStatus;
    const channel = CHANNELS[(i >> 1) % 5] as OrderChannel;
    const created = new Date(NOW.getTime() - i * 7 * HOUR - 1000);
    const order: Order = {
      ...newOrder({ orderId, request: request(customerId), channel, now: created }),
      status,
      ...(channel !== 'web' ? { externalReference: `REF-${i}` } : {}),
      ...(i % 4 === 0 ? { totals: { subtotal: 1000 + i, discount: 0, tax: 0, total: 1000 + i, taxByRate: [] } } : {}),
    };
    expect(await orders.create(order)).toBe(true);
    seeded.push({ orderId, customerId, status, channel, createdAt: order.createdAt });
    // Siblings in the order's partition that carry a status or a customer of their own.
    await t.db.send(
      new PutCommand({
        TableName: t.names.orders,
        Item: {
          orderId,
          sk: 'SHIPMENT#A1',
          shipmentId: `${orderId}-A1`,
          status: 'DELIVERED',
          customerId,
          createdAt: order.createdAt,
        },
      }),
    );
    if (i % 5 === 0) {
      await t.db.send(
        new PutCommand({
          TableName: t.names.orders,
          Item: { orderId, sk: 'RESERVATION', status: 'RELEASED', allocations: {} },
        }),
      );
      await t.db.send(
        new PutCommand({
          TableName: t.names.orders,
          Item: {
            orderId,
            sk: 'BACKORDER#WIDGET-BLUE',
            backorderSku: 'WIDGET-BLUE',
            since: order.createdAt,
            customerId,
          },
        }),
      );
    }
  }
}, 120_000);

afterAll(async () => {
  await t?.stop();
});

/** Every page of a search, following its cursors (as ids). */
async function pages(
  search: Omit<SearchRequest, 'cursor'>,
  limit: number,
  budget: { queries: number; items: number } = PAGE_BUDGET,
) {
  const result: string[][] = [];
  let cursor: string | undefined;
  do {
    const plan = planOrderSearch({ ...search, ...(cursor ? { cursor } : {}) }, NOW);
    const page = await orders.search(plan, limit, budget);
    expect(page.orders.length).toBeLessThanOrEqual(limit);
    result.push(page.orders.map((o) => o.orderId));
    cursor = page.next ? encodeCursor(plan, page.next) : undefined;
  } while (cursor && result.length < 200);
  expect(cursor, 'the search ends').toBeUndefined();
  return result;
}

/** The seeded orders a search should find, newest first. */
const expected = (match: (order: Seeded) => boolean) =>
  seeded
    .filter(match)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((o) => o.orderId);

describe('order search on the orders table', () => {
  it("lists a customer's orders newest first, every order once over many pages", async () => {
    const want = expected((o) => o.customerId === 'CUST-B');
    expect(want).toHaveLength(15);
    const got = await pages({ customerId: 'CUST-B' }, 4);
    expect(got.map((p) => p.length)).toEqual([4, 4, 4, 3]);
    expect(got.flat()).toEqual(want);
    // One page with all of them.
    expect((await pages({ customerId: 'CUST-B' }, 100)).flat()).toEqual(want);
  });

  it('filters a customer by status and channel (FilterExpression) without gaps between pages', async () => {
    const want = expected((o) => o.customerId === 'CUST-A' && o.status === 'SHIPPED');
    expect(want.length).toBeGreaterThan(1);
    expect((await pages({ customerId: 'CUST-A', status: 'SHIPPED' }, 1)).flat()).toEqual(want);
    const crm = expected((o) => o.customerId === 'CUST-C' && o.channel === 'crm');
    expect(crm.length).toBeGreaterThan(0);
    expect((await pages({ customerId: 'CUST-C', channel: 'crm' }, 2)).flat()).toEqual(crm);
  });

  it('lists a status from its own index; shipment items with that status never appear', async () => {
    const want = expected((o) => o.status === 'DELIVERED');
    expect(want).toHaveLength(9);
    const got = (await pages({ status: 'DELIVERED' }, 2)).flat();
    expect(got).toEqual(want);
    // The shipment items say DELIVERED for all 45 orders: only the 9 orders do.
    const all = await orders.search(planOrderSearch({ status: 'DELIVERED' }, NOW), 100);
    expect(all.orders.every((o) => o.status === 'DELIVERED' && o.currency === 'EUR')).toBe(true);
    const statusChannel = expected((o) => o.status === 'SHIPPED' && o.channel === 'rep');
    expect(statusChannel).toHaveLength(4);
    expect((await pages({ status: 'SHIPPED', channel: 'rep' }, 1)).flat()).toEqual(statusChannel);
  });

  it('walks the days from `to` back to `from` for a channel, or with no filter at all', async () => {
    const email = expected((o) => o.channel === 'email');
    expect(email.length).toBeGreaterThan(3);
    expect((await pages({ channel: 'email' }, 3)).flat()).toEqual(email);
    const everything = (await pages({}, 7)).flat();
    expect(everything).toEqual(expected(() => true));
    expect(new Set(everything).size).toBe(45);
  });

  it('bounds the window inclusively at both ends', async () => {
    const inside = seeded.slice(10, 21); // 11 orders, newest seeded[10], oldest seeded[20]
    const from = inside.at(-1)?.createdAt as string;
    const to = inside[0]?.createdAt as string;
    const want = expected((o) => o.createdAt >= from && o.createdAt <= to);
    expect(want).toEqual(inside.map((o) => o.orderId));
    expect((await pages({ from, to }, 4)).flat()).toEqual(want);
    const day = (await pages({ from: '2026-03-10', to: '2026-03-10' }, 50)).flat();
    expect(day).toEqual(expected((o) => o.createdAt.startsWith('2026-03-10')));
    expect(day.length).toBeGreaterThan(0);
  });

  it('answers a page within its read budget, and the cursor picks up where the budget ended', async () => {
    const rep = expected((o) => o.channel === 'rep');
    const got = await pages({ channel: 'rep' }, 50, { queries: 2, items: 1000 });
    expect(got.length).toBeGreaterThan(2); // 14 day partitions at 2 queries a page
    expect(got.flat()).toEqual(rep);
  });

  it('lists the summary the index projects', async () => {
    const page = await orders.search(planOrderSearch({ customerId: 'CUST-A' }, NOW), 1);
    const first = seeded[0] as Seeded;
    expect(page.orders).toEqual([
      {
        orderId: first.orderId,
        status: first.status,
        customerId: 'CUST-A',
        channel: first.channel,
        currency: 'EUR',
        totals: { subtotal: 1000, discount: 0, tax: 0, total: 1000, taxByRate: [] },
        createdAt: first.createdAt,
        updatedAt: first.createdAt,
      },
    ]);
    const web = (await pages({ channel: 'web' }, 100)).flat();
    expect(web).toContain(first.orderId);
    expect(web).toEqual(expected((o) => o.channel === 'web'));
  });

  it('keeps the search keys out of the order as read', async () => {
    const order = await orders.get(seeded[3]?.orderId as string);
    expect(order).not.toHaveProperty('placedAt');
    expect(order).not.toHaveProperty('placedDay');
    expect(order.externalReference).toBe('REF-3');
  });
});
