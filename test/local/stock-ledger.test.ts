import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackorderLedger as Ledger } from '../../functions/adapters/stock-repository.ts';
import { OutOfStock } from '../../functions/core/errors.ts';
import type { StockItem } from '../../functions/core/schemas.ts';
import { type LocalTables, startTables } from '../support/tables.ts';

/**
 * The stock ledger against DynamoDB Local: the real transactions and conditions of reservation
 * across warehouses, shipping and releasing per allocation, backorder fills and adjustments.
 */
let tables: LocalTables;
let db: DynamoDBDocumentClient;
let ledger: Ledger;
let stockTable: string;
let ordersTable: string;
const at = new Date('2026-11-29T10:00:00Z');

beforeAll(async () => {
  tables = await startTables();
  db = tables.db;
  stockTable = tables.names.stock;
  ordersTable = tables.names.orders;
  const { BackorderLedger } = await import('../../functions/adapters/stock-repository.ts');
  ledger = new BackorderLedger(stockTable, ordersTable);
}, 120_000);

afterAll(async () => {
  await tables?.stop();
});

async function stock(sku: string, onHand: Record<string, number>) {
  for (const [warehouseId, n] of Object.entries(onHand))
    await db.send(
      new PutCommand({ TableName: stockTable, Item: { sku, warehouseId, onHand: n, reserved: 0, available: n } }),
    );
}
async function newOrder(orderId: string) {
  await db.send(new PutCommand({ TableName: ordersTable, Item: { orderId, sk: 'ORDER', status: 'VALIDATED' } }));
}
const order = async (orderId: string) =>
  (await db.send(new GetCommand({ TableName: ordersTable, Key: { orderId, sk: 'ORDER' } }))).Item as Record<
    string,
    any
  >;
/** Orders waiting for this SKU (nothing in stock when they reserve), oldest first, each with its token parked. */
async function waitingOrders(sku: string, orders: readonly (readonly [string, number])[]) {
  for (const [index, [orderId, quantity]] of orders.entries()) {
    await newOrder(orderId);
    await ledger.reserve(
      { orderId, lines: [{ sku, quantity }], policy: 'ship_available' },
      new Date(at.getTime() + index * 1000),
      14,
    );
    expect(await ledger.parkToken(orderId, `token-${orderId}`)).toBe(true);
  }
}
/** The ledger as an eventually consistent index shows it: an order that reserved a moment ago is not listed yet. */
function indexNotListing(orderId: string): Ledger {
  const lagging = Object.create(ledger) as Ledger;
  lagging.waitingPages = async function* (sku: string) {
    for await (const page of ledger.waitingPages(sku)) yield page.filter((id) => id !== orderId);
  };
  return lagging;
}

/** The backorder service (functions/lib/backorders.ts) on this ledger (or a stand-in); `succeed` resumes a workflow. */
async function backorderService(deps: { ledger?: Ledger; succeed: (token: string) => Promise<void> }) {
  const { OrdersRepository } = await import('../../functions/adapters/orders-repository.ts');
  const { backorders } = await import('../../functions/lib/backorders.ts');
  return backorders({
    orders: new OrdersRepository(ordersTable),
    ledger: deps.ledger ?? ledger,
    tokens: { succeed: deps.succeed } as never,
    clock: () => at,
    recordStage: (async () => undefined) as never,
  });
}
const levels = async (sku: string) =>
  Object.fromEntries(
    (await ledger.levels([sku])).map((i: StockItem) => [i.warehouseId, [i.onHand, i.reserved, i.available]]),
  );

describe('stock ledger on DynamoDB Local', () => {
  it('all_or_nothing: a short line reserves nothing anywhere', async () => {
    await stock('L-A', { 'WH-BERLIN': 2, 'WH-ROTTERDAM': 1 });
    await newOrder('o-short');
    const error = await ledger
      .reserve({ orderId: 'o-short', lines: [{ sku: 'L-A', quantity: 4 }], policy: 'all_or_nothing' }, at, 14)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutOfStock);
    expect(await levels('L-A')).toEqual({ 'WH-BERLIN': [2, 0, 2], 'WH-ROTTERDAM': [1, 0, 1] });
  });

  it('splits over the warehouses, ships and releases per allocation, each once', async () => {
    await stock('L-B', { 'WH-BERLIN': 3, 'WH-ROTTERDAM': 5 });
    await newOrder('o-split');
    const outcome = await ledger.reserve(
      { orderId: 'o-split', lines: [{ sku: 'L-B', quantity: 6 }], policy: 'all_or_nothing' },
      at,
      14,
    );
    // Rotterdam alone can serve 5 of 6, Berlin 3: no single warehouse serves it, Berlin first.
    expect(outcome).toMatchObject({
      allocations: [
        { allocationId: 'A1', warehouseId: 'WH-BERLIN', lines: [{ sku: 'L-B', quantity: 3 }] },
        { allocationId: 'A2', warehouseId: 'WH-ROTTERDAM', lines: [{ sku: 'L-B', quantity: 3 }] },
      ],
      backorder: [],
    });
    expect(
      await ledger.reserve(
        { orderId: 'o-split', lines: [{ sku: 'L-B', quantity: 6 }], policy: 'all_or_nothing' },
        at,
        14,
      ),
    ).toBe('already-reserved');
    expect(await levels('L-B')).toEqual({ 'WH-BERLIN': [3, 3, 0], 'WH-ROTTERDAM': [5, 3, 2] });

    expect(await ledger.ship('o-split', 'A1')).toBe(true);
    expect(await ledger.ship('o-split', 'A1')).toBe(false);
    expect(await levels('L-B')).toEqual({ 'WH-BERLIN': [0, 0, 0], 'WH-ROTTERDAM': [5, 3, 2] });

    // Released: the held A2 goes back; A1 (shipped, its shipment cancelled before it left) is restocked.
    expect(await ledger.release('o-split', { restock: ['A1'] })).toEqual({ outcome: 'released', shipped: [] });
    expect(await ledger.release('o-split', { restock: ['A1'] })).toEqual({ outcome: 'already-released', shipped: [] });
    expect(await levels('L-B')).toEqual({ 'WH-BERLIN': [3, 0, 3], 'WH-ROTTERDAM': [5, 0, 5] });
  });

  it('backorders the rest (ship_available) and fills the oldest first, as new allocations', async () => {
    await stock('L-C', { 'WH-BERLIN': 1 });
    await newOrder('o-old');
    await newOrder('o-young');
    const older = await ledger.reserve(
      { orderId: 'o-old', lines: [{ sku: 'L-C', quantity: 3 }], policy: 'ship_available' },
      at,
      14,
    );
    expect(older).toMatchObject({ backorder: [{ sku: 'L-C', quantity: 2 }] });
    const younger = await ledger.reserve(
      { orderId: 'o-young', lines: [{ sku: 'L-C', quantity: 1 }], policy: 'ship_available' },
      new Date(at.getTime() + 1000),
      14,
    );
    // What it answers is what it wrote on the order, the backorder's expiry too.
    expect(younger).toEqual({
      allocations: [],
      backorder: [{ sku: 'L-C', quantity: 1 }],
      backorderExpiresAt: '2026-12-13T10:00:01.000Z',
    });
    expect((await order('o-young')).backorder.expiresAt).toBe(
      younger === 'already-reserved' ? '' : younger.backorderExpiresAt,
    );
    expect((await order('o-old')).backorder).toMatchObject({
      lines: [{ sku: 'L-C', quantity: 2 }],
      expiresAt: '2026-12-13T10:00:00.000Z',
    });
    expect(await ledger.waitingFor('L-C')).toEqual(['o-old', 'o-young']);

    await ledger.adjust({
      adjustmentId: 'adj-1',
      sku: 'L-C',
      warehouseId: 'WH-ROTTERDAM',
      delta: 2,
      reason: 'receipt',
      by: 'erp',
      at: at.toISOString(),
    });
    const old = await order('o-old');
    const filled = await ledger.fill({ orderId: 'o-old', allocations: old.allocations, backorder: old.backorder }, at);
    expect(filled).toMatchObject({
      allocations: [{ allocationId: 'A2', warehouseId: 'WH-ROTTERDAM', lines: [{ sku: 'L-C', quantity: 2 }] }],
      rest: [],
    });
    expect(await ledger.waitingFor('L-C')).toEqual(['o-young']);
    // The same fill again (stale read): refused by its conditions, nothing moves twice.
    expect(await ledger.fill({ orderId: 'o-old', allocations: old.allocations, backorder: old.backorder }, at)).toBe(
      undefined,
    );
    expect(await levels('L-C')).toEqual({ 'WH-BERLIN': [1, 1, 0], 'WH-ROTTERDAM': [2, 2, 0] });

    // The younger one expires: its remainder is cancelled and it leaves the index.
    expect(await ledger.cancelRemainder('o-young', [{ sku: 'L-C', quantity: 1 }])).toBe(true);
    expect((await order('o-young')).backorder).toMatchObject({
      lines: [],
      cancelledLines: [{ sku: 'L-C', quantity: 1 }],
    });
    expect(await ledger.waitingFor('L-C')).toEqual([]);
  });

  it('moves allocations of the same warehouse and SKU (a backorder filled there) as one stock update', async () => {
    await stock('L-E', { 'WH-BERLIN': 1 });
    await newOrder('o-e');
    await ledger.reserve({ orderId: 'o-e', lines: [{ sku: 'L-E', quantity: 3 }], policy: 'ship_available' }, at, 14);
    await ledger.adjust({
      ...{ sku: 'L-E', warehouseId: 'WH-BERLIN', by: 'erp', at: at.toISOString() },
      adjustmentId: 'e1',
      delta: 2,
      reason: 'receipt',
    });
    const waiting = await order('o-e');
    expect(
      await ledger.fill({ orderId: 'o-e', allocations: waiting.allocations, backorder: waiting.backorder }, at),
    ).toMatchObject({
      allocations: [{ allocationId: 'A2', warehouseId: 'WH-BERLIN' }],
    });
    expect(await levels('L-E')).toEqual({ 'WH-BERLIN': [3, 3, 0] });
    expect(await ledger.ship('o-e')).toBe(true);
    expect(await levels('L-E')).toEqual({ 'WH-BERLIN': [0, 0, 0] });
    expect(await ledger.release('o-e', { restock: ['A1', 'A2'] })).toEqual({ outcome: 'released', shipped: [] });
    expect(await levels('L-E')).toEqual({ 'WH-BERLIN': [3, 0, 3] });
  });

  it('adjustments: a write-off may not touch reserved goods; a retry with the same key counts once', async () => {
    await stock('L-D', { 'WH-BERLIN': 4 });
    await newOrder('o-d');
    await ledger.reserve({ orderId: 'o-d', lines: [{ sku: 'L-D', quantity: 3 }], policy: 'all_or_nothing' }, at, 14);
    const base = { sku: 'L-D', warehouseId: 'WH-BERLIN', by: 'ops', at: at.toISOString() };
    const tooMuch = await ledger
      .adjust({ ...base, adjustmentId: 'w1', delta: -2, reason: 'broken' })
      .catch((e: Error) => e);
    expect(tooMuch).toMatchObject({ name: 'WriteOffExceedsAvailable', available: 1 });
    const first = await ledger.adjust({ ...base, adjustmentId: 'r1', delta: 5, reason: 'DN-1' }, 'key-00000001');
    const retry = await ledger.adjust(
      { ...base, adjustmentId: 'r2', delta: 5, reason: 'DN-1', at: '2026-11-29T10:00:05.000Z' },
      'key-00000001',
    );
    expect([first.replayed, retry.replayed]).toEqual([false, true]);
    expect(retry.adjustment.adjustmentId).toBe('r1');
    expect(await levels('L-D')).toEqual({ 'WH-BERLIN': [9, 3, 6] });
    await expect(
      ledger.adjust({ ...base, adjustmentId: 'r3', delta: 6, reason: 'DN-1' }, 'key-00000001'),
    ).rejects.toMatchObject({ name: 'AdjustmentKeyReused' });
    expect((await ledger.adjustments('L-D')).map((a) => [a.adjustmentId, a.delta])).toEqual([['r1', 5]]);
    // On hand may not go below what is reserved.
    await expect(ledger.setOnHand('L-D', 'WH-BERLIN', 2)).rejects.toMatchObject({
      name: 'StockBelowReserved',
      reserved: 3,
    });
    expect(await ledger.setOnHand('L-D', 'WH-BERLIN', 3)).toEqual({
      sku: 'L-D',
      warehouseId: 'WH-BERLIN',
      onHand: 3,
      reserved: 3,
      available: 0,
    });
  });

  it('a backorder fill racing the release is released with the rest: no stock stays reserved', async () => {
    await stock('L-F', { 'WH-BERLIN': 1 });
    await newOrder('o-f');
    await ledger.reserve({ orderId: 'o-f', lines: [{ sku: 'L-F', quantity: 3 }], policy: 'ship_available' }, at, 14);
    await ledger.adjust({
      ...{ sku: 'L-F', warehouseId: 'WH-ROTTERDAM', by: 'erp', at: at.toISOString() },
      adjustmentId: 'f1',
      delta: 2,
      reason: 'receipt',
    });
    // The fill lands between the release's read of the reservation and its closing write.
    const target = ledger as unknown as { reservation(orderId: string): Promise<unknown> };
    const read = target.reservation.bind(ledger);
    let raced = false;
    target.reservation = async (orderId: string) => {
      const held = await read(orderId);
      if (!raced) {
        raced = true;
        const waiting = await order('o-f');
        const filled = await ledger.fill(
          { orderId: 'o-f', allocations: waiting.allocations, backorder: waiting.backorder },
          at,
        );
        expect(filled).toMatchObject({ allocations: [{ allocationId: 'A2', warehouseId: 'WH-ROTTERDAM' }] });
      }
      return held;
    };
    try {
      expect(await ledger.release('o-f')).toEqual({ outcome: 'released', shipped: [] });
    } finally {
      delete (target as { reservation?: unknown }).reservation;
    }
    expect(raced).toBe(true);
    expect(await levels('L-F')).toEqual({ 'WH-BERLIN': [1, 0, 1], 'WH-ROTTERDAM': [2, 0, 2] });
    // Released: a later fill of what still waits reserves nothing.
    const after = await order('o-f');
    expect(await ledger.fill({ orderId: 'o-f', allocations: after.allocations, backorder: after.backorder }, at)).toBe(
      undefined,
    );
  });

  it('refuses fills of a backorder that expired, or of an order closing or ended', async () => {
    await stock('L-G', { 'WH-BERLIN': 0 });
    const waitingOrder = async (orderId: string, fields: Record<string, unknown> = {}) => {
      await newOrder(orderId);
      await ledger.reserve({ orderId, lines: [{ sku: 'L-G', quantity: 1 }], policy: 'ship_available' }, at, 14);
      if (Object.keys(fields).length > 0) {
        const item = await order(orderId);
        await db.send(new PutCommand({ TableName: ordersTable, Item: { ...item, ...fields } }));
      }
      return order(orderId);
    };
    const expired = await waitingOrder('o-g-expired');
    const closing = await waitingOrder('o-g-closing', { closing: at.toISOString() });
    const ended = await waitingOrder('o-g-ended', { status: 'COMPLETED' });
    const live = await waitingOrder('o-g-live');
    await stock('L-G', { 'WH-BERLIN': 4 });
    const fill = (o: Record<string, any>, when: Date) =>
      ledger.fill({ orderId: o.orderId, allocations: o.allocations, backorder: o.backorder }, when);
    const afterExpiry = new Date(Date.parse(expired.backorder.expiresAt) + 1000);
    expect(await fill(expired, afterExpiry)).toBe(undefined);
    expect(await fill(closing, at)).toBe(undefined);
    expect(await fill(ended, at)).toBe(undefined);
    expect(await levels('L-G')).toEqual({ 'WH-BERLIN': [4, 0, 4] });
    expect(await fill(live, at)).toMatchObject({ rest: [] });
    expect(await levels('L-G')).toEqual({ 'WH-BERLIN': [4, 1, 3] });
  });

  it('a whole-order cancellation is refused once a shipment is booked; the remainder may still be cancelled', async () => {
    const { OrdersRepository } = await import('../../functions/adapters/orders-repository.ts');
    const orders = new OrdersRepository(ordersTable);
    const cancellation = (kind: 'whole' | 'remainder') => ({
      requestedAt: at.toISOString(),
      by: { kind: 'user' as const, id: 'rep-1', role: 'sales-rep' },
      reason: 'customer called',
      kind,
    });
    for (const orderId of ['o-booked', 'o-unbooked'])
      await db.send(
        new PutCommand({
          TableName: ordersTable,
          Item: { orderId, sk: 'ORDER', status: 'PAYMENT_AUTHORIZED', stages: {} },
        }),
      );
    // The booking's intent is recorded; its stage (SHIPPED) is not yet.
    await orders.recordShipmentIntent({
      orderId: 'o-booked',
      shipmentId: 'o-booked-A1',
      carrier: 'SANDBOX',
      allocationId: 'A1',
      warehouseId: 'WH-BERLIN',
      lines: [{ sku: 'L-H', quantity: 1 }],
      at: at.toISOString(),
    });
    expect((await order('o-booked')).bookedAt).toBe(at.toISOString());
    const whole = await orders.requestCancellation('o-booked', cancellation('whole'));
    expect(whole.recorded).toBe(false);
    expect(whole.order.bookedAt).toBe(at.toISOString());
    expect((await orders.requestCancellation('o-booked', cancellation('remainder'))).recorded).toBe(true);
    expect((await order('o-booked')).cancellation).toMatchObject({ kind: 'remainder' });
    // Nothing booked: the whole order may go.
    expect((await orders.requestCancellation('o-unbooked', cancellation('whole'))).recorded).toBe(true);
    // Cancelled in whole: a booking is refused.
    await expect(
      orders.recordShipmentIntent({
        orderId: 'o-unbooked',
        shipmentId: 'o-unbooked-A1',
        carrier: 'SANDBOX',
        allocationId: 'A1',
        warehouseId: 'WH-BERLIN',
        lines: [{ sku: 'L-H', quantity: 1 }],
      }),
    ).rejects.toMatchObject({ name: 'OrderCancelled' });
    expect((await order('o-unbooked')).bookedAt).toBeUndefined();
  });

  it('serves past a full page of cancelled waiting orders: the live one behind them gets the stock', async () => {
    await stock('L-I', { 'WH-BERLIN': 0 });
    const waiting = async (orderId: string, when: Date) => {
      await newOrder(orderId);
      await ledger.reserve({ orderId, lines: [{ sku: 'L-I', quantity: 1 }], policy: 'ship_available' }, when, 14);
    };
    for (let i = 0; i < 26; i++) {
      const orderId = `o-i-cancelled-${String(i).padStart(2, '0')}`;
      await waiting(orderId, new Date(at.getTime() + i * 1000));
      const item = await order(orderId);
      await db.send(
        new PutCommand({
          TableName: ordersTable,
          Item: { ...item, cancellation: { requestedAt: at.toISOString(), kind: 'whole' } },
        }),
      );
    }
    await waiting('o-i-live', new Date(at.getTime() + 60_000));
    await stock('L-I', { 'WH-BERLIN': 1 });
    const resumed: string[] = [];
    const service = await backorderService({ succeed: async (token: string) => void resumed.push(token) });
    expect(await service.serve('L-I')).toBe(1);
    expect((await order('o-i-live')).allocations).toMatchObject([
      { allocationId: 'A1', warehouseId: 'WH-BERLIN', lines: [{ sku: 'L-I', quantity: 1 }] },
    ]);
    expect(await levels('L-I')).toEqual({ 'WH-BERLIN': [1, 1, 0] });
  });

  it('an order parking for stock serves the queue it waits in oldest first: stock already there goes to the older order', async () => {
    await stock('L-J', { 'WH-ROTTERDAM': 0 });
    for (const [orderId, quantity, later] of [
      ['o-j-old', 3, 0],
      ['o-j-young', 2, 1000],
    ] as const) {
      await newOrder(orderId);
      await ledger.reserve(
        { orderId, lines: [{ sku: 'L-J', quantity }], policy: 'ship_available' },
        new Date(at.getTime() + later),
        14,
      );
    }
    expect(await ledger.parkToken('o-j-old', 'token-old')).toBe(true);
    // Three arrive (a stock route that has not served yet): enough for the older order only.
    await ledger.setOnHand('L-J', 'WH-ROTTERDAM', 3);
    const resumed: string[] = [];
    const service = await backorderService({ succeed: async (token: string) => void resumed.push(token) });
    // The younger order parks its token (AwaitBackorder) and serves its queue.
    expect(await ledger.parkToken('o-j-young', 'token-young')).toBe(true);
    expect(await service.serveQueuesOf('o-j-young')).toBe(1);
    expect((await order('o-j-old')).allocations).toMatchObject([
      { allocationId: 'A1', warehouseId: 'WH-ROTTERDAM', lines: [{ sku: 'L-J', quantity: 3 }] },
    ]);
    expect(resumed).toEqual(['token-old']);
    const young = await order('o-j-young');
    expect([young.allocations, young.backorder.lines]).toEqual([[], [{ sku: 'L-J', quantity: 2 }]]);
    expect(await ledger.waitingFor('L-J')).toEqual(['o-j-young']);
    expect(await levels('L-J')).toEqual({ 'WH-ROTTERDAM': [3, 3, 0] });
  });

  it('an order parking for stock is not failed by trouble serving an older one: the rest waits for the next serve', async () => {
    await stock('L-L', { 'WH-BERLIN': 0 });
    await waitingOrders('L-L', [
      ['o-l-old', 2],
      ['o-l-young', 1],
    ]);
    await ledger.setOnHand('L-L', 'WH-BERLIN', 3);
    const resumed: string[] = [];
    // The older order's workflow cannot be resumed for now (Step Functions throttles the call).
    const succeed = async (token: string) => {
      if (token === 'token-o-l-old') throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      resumed.push(token);
    };
    const service = await backorderService({ succeed });
    // The younger one parks and serves its queue: the older one's trouble is not its failure.
    await expect(service.serveQueuesOf('o-l-young')).resolves.toBe(0);
    expect((await order('o-l-old')).backorder.lines).toEqual([]);
    expect((await order('o-l-young')).backorder.lines).toEqual([{ sku: 'L-L', quantity: 1 }]);
    // What is left goes to the next serve (a stock route, the sweep).
    expect(await service.serve('L-L')).toBe(1);
    expect(resumed).toEqual(['token-o-l-young']);
    expect(await levels('L-L')).toEqual({ 'WH-BERLIN': [3, 3, 0] });
  });

  it('an order parking for stock whose own resume fails once is resumed before the task answers', async () => {
    await stock('L-N', { 'WH-BERLIN': 0 });
    await waitingOrders('L-N', [['o-n', 2]]);
    await ledger.setOnHand('L-N', 'WH-BERLIN', 2);
    const resumed: string[] = [];
    let refusals = 1;
    const succeed = async (token: string) => {
      if (refusals-- > 0) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      resumed.push(token);
    };
    const service = await backorderService({ succeed });
    await service.serveQueuesOf('o-n');
    expect((await order('o-n')).backorder.lines).toEqual([]);
    expect(resumed).toEqual(['token-o-n']);
  });

  it('an order parking for stock that the index does not list yet gets the stock left after the older ones', async () => {
    await stock('L-O', { 'WH-BERLIN': 0 });
    await waitingOrders('L-O', [
      ['o-o-old', 1],
      ['o-o-new', 2],
    ]);
    await ledger.setOnHand('L-O', 'WH-BERLIN', 3);
    // The index lags: it lists the older order, not yet the one that reserved a moment ago.
    const lagging = indexNotListing('o-o-new');
    const resumed: string[] = [];
    const service = await backorderService({
      ledger: lagging,
      succeed: async (token: string) => void resumed.push(token),
    });
    expect(await service.serveQueuesOf('o-o-new')).toBe(2);
    expect(resumed).toEqual(['token-o-o-old', 'token-o-o-new']);
    expect(await levels('L-O')).toEqual({ 'WH-BERLIN': [3, 3, 0] });
  });

  it('an order parking for stock leaves stock that arrives while it walks its queue to the older orders', async () => {
    await stock('L-P', { 'WH-ROTTERDAM': 0 });
    await waitingOrders('L-P', [
      ['o-p-old', 3],
      ['o-p-young', 2],
    ]);
    // Three arrive (a stock route's update) just after the younger order's walk found the queue dry.
    const racing = Object.create(ledger) as Ledger;
    let arrived = false;
    racing.levels = async (skus: readonly string[]) => {
      const items = await ledger.levels(skus);
      if (!arrived) {
        arrived = true;
        await ledger.setOnHand('L-P', 'WH-ROTTERDAM', 3);
      }
      return items;
    };
    const resumed: string[] = [];
    const service = await backorderService({
      ledger: racing,
      succeed: async (token: string) => void resumed.push(token),
    });
    expect(await service.serveQueuesOf('o-p-young')).toBe(0);
    expect((await order('o-p-young')).backorder.lines).toEqual([{ sku: 'L-P', quantity: 2 }]);
    // The stock route serves them next: the oldest gets all three.
    expect(await service.serve('L-P')).toBe(1);
    expect(resumed).toEqual(['token-o-p-old']);
    expect((await order('o-p-young')).backorder.lines).toEqual([{ sku: 'L-P', quantity: 2 }]);
    expect(await levels('L-P')).toEqual({ 'WH-ROTTERDAM': [3, 3, 0] });
  });

  it('an order parking for stock, not listed yet, leaves stock arriving after its queue ran dry at its end to the older order', async () => {
    await stock('L-Q', { 'WH-ROTTERDAM': 0 });
    await waitingOrders('L-Q', [
      ['o-q-old', 5],
      ['o-q-young', 2],
    ]);
    await ledger.setOnHand('L-Q', 'WH-ROTTERDAM', 3);
    // The index does not list the younger order yet (eventually consistent); three more arrive (a stock
    // route's update) just after the older order took the three there were.
    const lagging = indexNotListing('o-q-young');
    lagging.fill = async (...args: Parameters<Ledger['fill']>) => {
      const filled = await ledger.fill(...args);
      if (args[0].orderId === 'o-q-old') await ledger.setOnHand('L-Q', 'WH-ROTTERDAM', 6);
      return filled;
    };
    const resumed: string[] = [];
    const service = await backorderService({ ledger: lagging, succeed: async (token) => void resumed.push(token) });
    expect(await service.serveQueuesOf('o-q-young')).toBe(1);
    expect((await order('o-q-old')).backorder.lines).toEqual([{ sku: 'L-Q', quantity: 2 }]);
    expect((await order('o-q-young')).backorder.lines).toEqual([{ sku: 'L-Q', quantity: 2 }]);
    // The stock route serves the older order its two next (the younger one, still not listed, waits).
    expect(await service.serve('L-Q')).toBe(1);
    expect(resumed).toEqual(['token-o-q-old']);
    expect(await levels('L-Q')).toEqual({ 'WH-ROTTERDAM': [6, 5, 1] });
  });

  it('an order parking for stock serves its queue only while its time allows: the rest waits for the next serve', async () => {
    await stock('L-M', { 'WH-BERLIN': 0 });
    await waitingOrders('L-M', [
      ['o-m-1', 1],
      ['o-m-2', 1],
      ['o-m-3', 1],
    ]);
    await ledger.setOnHand('L-M', 'WH-BERLIN', 3);
    const service = await backorderService({ succeed: async () => undefined });
    // Time for one order only.
    let budget = 1;
    expect(await service.serveQueuesOf('o-m-3', () => budget-- > 0)).toBe(1);
    expect(await ledger.waitingFor('L-M')).toEqual(['o-m-2', 'o-m-3']);
    expect(await levels('L-M')).toEqual({ 'WH-BERLIN': [3, 1, 2] });
  });

  it('a fill meeting another write to the same order or stock (StockContention) is read and tried again', async () => {
    const { StockContention } = await import('../../functions/core/errors.ts');
    await stock('L-K', { 'WH-BERLIN': 0 });
    await newOrder('o-k');
    await ledger.reserve({ orderId: 'o-k', lines: [{ sku: 'L-K', quantity: 2 }], policy: 'ship_available' }, at, 14);
    await ledger.setOnHand('L-K', 'WH-BERLIN', 2);
    // The real ledger, whose first fill meets a concurrent transaction (TransactionConflict).
    let conflicts = 1;
    const contended = Object.create(ledger) as Ledger;
    contended.fill = async (...args) => {
      if (conflicts-- > 0) throw new StockContention('Filling the backorder of o-k: stock is being changed');
      return ledger.fill(...args);
    };
    const service = await backorderService({ ledger: contended, succeed: async () => undefined });
    expect(await service.serve('L-K')).toBe(1);
    expect((await order('o-k')).backorder.lines).toEqual([]);
    expect(await levels('L-K')).toEqual({ 'WH-BERLIN': [2, 2, 0] });
  });
});
