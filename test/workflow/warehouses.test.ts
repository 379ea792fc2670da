import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_SK } from '../../functions/adapters/orders-repository.ts';
import { StockLedger } from '../../functions/adapters/stock-repository.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, sleep, startTestRuntime, TestClient, WAIT_MS } from '../support/runtime.ts';

/**
 * Warehouses, stock routes and backorders on the real ASL and the local runtime. Backorders expire
 * after BACKORDER_DAYS, shortened here to seconds by configuration: the same setting gives the
 * backorder its expiresAt and AwaitBackorder its timeout. The scenarios run at once, each on
 * products of its own (their backorders expire together, not one after the other); the race,
 * which checks every product, runs alone after them.
 */
/**
 * Long enough for three orders to be placed and parked before the oldest expires, and for an order's
 * first two shipments to be invoiced before its backorder does (about 8 s on a quiet 2-core machine,
 * more than 25 on a slow one running another test file beside this one).
 */
const BACKORDER_SECONDS = 60;
/** Until an order whose backorder may expire has ended. */
const ENDED_MS = BACKORDER_SECONDS * 1000 + WAIT_MS;

let runtime: LocalRuntime;
let client: TestClient;

beforeAll(async () => {
  runtime = await startTestRuntime({
    environment: {
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      BACKORDER_DAYS: String(BACKORDER_SECONDS / 86_400),
      // Large orders here are about stock, not approval (test/workflow/approval.test.ts).
      HIGH_VALUE_THRESHOLDS: 'EUR=100000000',
    },
  });
  client = new TestClient(runtime);
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
});

type Level = { warehouseId: string; onHand: number; reserved: number; available: number };
const PRICES: Record<string, number> = {
  'MOUSE-ERGO': 5900,
  'MONITOR-27': 32_900,
  'KEYBOARD-MX': 11_900,
  'CABLE-USB-C': 990,
  'GADGET-PRO': 8900,
};
const line = (sku: string, quantity: number) => ({ sku, quantity, unitPrice: PRICES[sku] });
const levels = async (sku: string) => ((await client.product(sku)).warehouses as Level[]) ?? [];
const level = async (sku: string, warehouseId: string) =>
  (await levels(sku)).find((w) => w.warehouseId === warehouseId) as Level;
const erp = () => client.as('erp');
const documents = () =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: runtime.urls.dynamodb,
      credentials: runtime.credentials,
    }),
  );
/** A product of the scenario's own, sold in EUR, with nothing on hand in Rotterdam: what is ordered waits. */
async function productOutOfStock(sku: string, unitPrice: number) {
  const db = documents();
  await db.send(
    new PutCommand({
      TableName: runtime.lambdas.environment().PRODUCTS_TABLE_NAME as string,
      Item: { sku, name: `Keyboard ${sku}`, taxCategory: 'standard', prices: { EUR: unitPrice }, active: true },
    }),
  );
  db.destroy();
  await client.setOnHand(sku, 0, 'WH-ROTTERDAM');
  return { sku, quantity: 2, unitPrice };
}
/** Waits until the order's AwaitBackorder parked its task token (its own serving is done). */
const parked = (orderId: string) =>
  eventually(async () => {
    const db = documents();
    const { Item } = await db.send(
      new GetCommand({
        TableName: runtime.lambdas.environment().ORDERS_TABLE_NAME as string,
        Key: { orderId, sk: ORDER_SK },
        ConsistentRead: true,
      }),
    );
    db.destroy();
    return Item?.backorder?.taskToken ? true : undefined;
  });
const quantitiesOf = (order: Record<string, any>, sku: string) =>
  (order.quantities as { sku: string }[]).find((q) => q.sku === sku);

describe('stock per warehouse', () => {
  it.concurrent('GET /products sums the warehouses and lists each', async ({ expect }) => {
    const widget = await client.product('WIDGET-BLUE');
    const warehouses = widget.warehouses as Level[];
    expect(warehouses.map((w) => w.warehouseId)).toEqual(['WH-BERLIN', 'WH-ROTTERDAM']);
    for (const field of ['onHand', 'reserved', 'available'] as const)
      expect(widget[field], field).toBe(warehouses.reduce((n, w) => n + w[field], 0));
    for (const w of warehouses) expect(w.available).toBe(w.onHand - w.reserved);
    const keyboard = await client.product('KEYBOARD-MX');
    expect((keyboard.warehouses as Level[]).map((w) => w.warehouseId)).toEqual(['WH-ROTTERDAM']);
  });

  it.concurrent('ship_available across two warehouses: two shipments leave now, each with its tracking number and invoice; a receipt fills the backorder as a third shipment', async ({
    expect,
  }) => {
    const orderId = await client.placeOrder(
      orderBody({ lines: [line('MONITOR-27', 30)], fulfilmentPolicy: 'ship_available' }),
    );
    // What is in stock ships now, one shipment per warehouse, while the rest waits.
    const shipping = await eventually(async () => {
      const order = await client.order(orderId);
      const invoiced = order.shipments.filter((s: { invoiceNumber?: string }) => s.invoiceNumber);
      return invoiced.length === 2 ? order : undefined;
    });
    expect(shipping.allocations.map((a: Record<string, unknown>) => [a.allocationId, a.warehouseId, a.lines])).toEqual([
      ['A1', 'WH-BERLIN', [{ sku: 'MONITOR-27', quantity: 15 }]],
      ['A2', 'WH-ROTTERDAM', [{ sku: 'MONITOR-27', quantity: 10 }]],
    ]);
    expect(shipping.backorder.lines).toEqual([{ sku: 'MONITOR-27', quantity: 5 }]);
    expect(shipping.shipments.map((s: Record<string, unknown>) => [s.allocationId, s.warehouseId, s.lines])).toEqual([
      ['A1', 'WH-BERLIN', [{ sku: 'MONITOR-27', quantity: 15 }]],
      ['A2', 'WH-ROTTERDAM', [{ sku: 'MONITOR-27', quantity: 10 }]],
    ]);
    const [first, second] = shipping.shipments as { trackingNumber: string; invoiceNumber: string }[];
    expect(first?.trackingNumber).toMatch(/^SBX/);
    expect(second?.trackingNumber).not.toBe(first?.trackingNumber);
    expect(shipping.invoices).toHaveLength(2);
    expect(quantitiesOf(shipping, 'MONITOR-27')).toMatchObject({ ordered: 30, backordered: 5, cancelled: 0 });
    // Both warehouses gave what they had: nothing is held for the order any more.
    await eventually(async () => ((await level('MONITOR-27', 'WH-BERLIN')).onHand === 0 ? true : undefined));
    expect(await levels('MONITOR-27')).toEqual([
      { warehouseId: 'WH-BERLIN', onHand: 0, reserved: 0, available: 0 },
      { warehouseId: 'WH-ROTTERDAM', onHand: 0, reserved: 0, available: 0 },
    ]);

    // A receipt of 5 in Berlin, recorded with who, when and why, serves the backorder as A3.
    const receipt = await erp().request('POST', '/products/MONITOR-27/stock/adjustments', {
      delta: 5,
      reason: 'delivery note DN-4711',
    });
    expect(receipt.status).toBe(201);
    expect(receipt.body?.adjustment).toMatchObject({
      sku: 'MONITOR-27',
      warehouseId: 'WH-BERLIN',
      delta: 5,
      reason: 'delivery note DN-4711',
      by: expect.stringContaining('erp'),
      at: expect.any(String),
    });

    const execution = await client.finished(orderId, ENDED_MS);
    expect(execution.status).toBe('SUCCEEDED');
    const order = await client.order(orderId);
    expect(order.status).toBe('COMPLETED');
    expect(order.allocations.map((a: Record<string, unknown>) => [a.allocationId, a.warehouseId])).toEqual([
      ['A1', 'WH-BERLIN'],
      ['A2', 'WH-ROTTERDAM'],
      ['A3', 'WH-BERLIN'],
    ]);
    expect(order.backorder.lines).toEqual([]);
    // Three shipments, three tracking numbers, three invoices adding up to the order.
    expect(order.shipments.map((s: Record<string, unknown>) => [s.allocationId, s.status])).toEqual([
      ['A1', 'DELIVERED'],
      ['A2', 'DELIVERED'],
      ['A3', 'DELIVERED'],
    ]);
    expect(new Set(order.shipments.map((s: { trackingNumber: string }) => s.trackingNumber)).size).toBe(3);
    expect(order.invoices).toHaveLength(3);
    expect(order.invoices.reduce((sum: number, i: { total: number }) => sum + i.total, 0)).toBe(order.totals.total);
    expect(order.payment.status).toBe('CAPTURED');
    expect(quantitiesOf(order, 'MONITOR-27')).toEqual({
      sku: 'MONITOR-27',
      ordered: 30,
      reserved: 0,
      backordered: 0,
      shipped: 30,
      delivered: 30,
      invoiced: 30,
      cancelled: 0,
    });
    // Everything left the warehouses: nothing reserved, on hand down by what shipped.
    expect(await levels('MONITOR-27')).toEqual([
      { warehouseId: 'WH-BERLIN', onHand: 0, reserved: 0, available: 0 },
      { warehouseId: 'WH-ROTTERDAM', onHand: 0, reserved: 0, available: 0 },
    ]);
  }, 300_000);

  it.concurrent('the stock routes refuse what would break reservations', async ({ expect }) => {
    // Stock held for an order (reserved as ReserveStock does) that has not shipped yet.
    const db = documents();
    const env = runtime.lambdas.environment();
    const orderId = `ord-${crypto.randomUUID().replaceAll('-', '').slice(0, 26)}`;
    await db.send(
      new PutCommand({
        TableName: env.ORDERS_TABLE_NAME as string,
        Item: { orderId, sk: ORDER_SK, status: 'VALIDATED' },
      }),
    );
    await client.setOnHand('LAMP-LED', 15, 'WH-BERLIN');
    const ledger = new StockLedger(env.STOCK_TABLE_NAME as string, env.ORDERS_TABLE_NAME as string);
    const reserved = await ledger.reserve(
      { orderId, lines: [{ sku: 'LAMP-LED', quantity: 15 }], policy: 'all_or_nothing' },
      new Date(),
      14,
    );
    expect(reserved).toMatchObject({ allocations: [{ warehouseId: 'WH-BERLIN' }], backorder: [] });
    expect(await level('LAMP-LED', 'WH-BERLIN')).toMatchObject({ onHand: 15, reserved: 15, available: 0 });

    // On hand below what is reserved there: 409 naming the reserved quantity; nothing changes.
    const below = await erp().request('PUT', '/products/LAMP-LED/stock', { onHand: 10 });
    expect(below.status).toBe(409);
    expect(below.body?.error.code).toBe('StockBelowReserved');
    expect(below.body?.error.issues).toEqual([
      { path: 'onHand', message: 'must be at least 15 (reserved for orders)' },
    ]);
    // A write-off of reserved goods: 409 with the reason; unknown warehouse or product: 404.
    const writeOff = await erp().request('POST', '/products/LAMP-LED/stock/adjustments', {
      delta: -1,
      reason: 'damaged in transit',
      warehouseId: 'WH-BERLIN',
    });
    expect(writeOff.status).toBe(409);
    expect(writeOff.body?.error.code).toBe('WriteOffExceedsAvailable');
    expect(writeOff.body?.error.issues[0]).toEqual({
      path: 'delta',
      message: 'must be at least -0 (available, not reserved)',
    });
    const nowhere = await erp().request('PUT', '/products/LAMP-LED/stock', { onHand: 1, warehouseId: 'WH-PARIS' });
    expect([nowhere.status, nowhere.body?.error.issues]).toEqual([
      404,
      [{ path: 'warehouseId', message: 'is not a known warehouse' }],
    ]);
    expect((await erp().request('PUT', '/products/NO-SUCH-SKU/stock', { onHand: 1 })).status).toBe(404);
    expect(await level('LAMP-LED', 'WH-BERLIN')).toMatchObject({ onHand: 15, reserved: 15, available: 0 });
    expect((await ledger.release(orderId)).outcome).toBe('released');
    expect(await level('LAMP-LED', 'WH-BERLIN')).toMatchObject({ onHand: 15, reserved: 0, available: 15 });
  });

  it.concurrent('serves backorders oldest first; what is not served in time is cancelled and the customer told', async ({
    expect,
  }) => {
    await erp().request('PUT', '/products/KEYBOARD-MX/stock', { onHand: 0, warehouseId: 'WH-ROTTERDAM' });
    const policy = { fulfilmentPolicy: 'ship_available' };
    const first = await client.placeOrder(orderBody({ lines: [line('KEYBOARD-MX', 3)], ...policy }));
    await client.waitForStatus(first, 'BACKORDERED');
    const second = await client.placeOrder(
      orderBody({ lines: [line('KEYBOARD-MX', 2), line('CABLE-USB-C', 1)], ...policy }),
    );
    // Its cable ships at once; the keyboards wait.
    await eventually(async () => {
      const order = await client.order(second);
      return order.shipments.length === 1 && order.backorder?.lines.length === 1 ? true : undefined;
    });
    const third = await client.placeOrder(orderBody({ lines: [line('KEYBOARD-MX', 1)], ...policy }));
    await client.waitForStatus(third, 'BACKORDERED');

    // Stock arrives after all three parked. Whoever serves it (the route, or an AwaitBackorder that parked a
    // moment ago and serves the queue its order waits in), the oldest comes first.
    for (const orderId of [first, second, third]) await parked(orderId);
    // Three arrive: enough for the oldest only, although the younger ones want fewer.
    const put = await erp().request('PUT', '/products/KEYBOARD-MX/stock', { onHand: 3, warehouseId: 'WH-ROTTERDAM' });
    expect(put.status).toBe(200);
    // Served while the route answered: the oldest got all three, the younger ones still wait.
    expect((await client.order(first)).allocations).toHaveLength(1);
    expect((await client.order(second)).backorder.lines).toEqual([{ sku: 'KEYBOARD-MX', quantity: 2 }]);
    expect((await client.order(third)).status).toBe('BACKORDERED');
    expect((await client.finished(first, ENDED_MS)).status).toBe('SUCCEEDED');
    expect((await client.order(first)).status).toBe('COMPLETED');

    // Expiry: the second keeps its cable and ships it; the third had nothing and is cancelled.
    expect((await client.finished(second, ENDED_MS)).status).toBe('SUCCEEDED');
    const kept = await client.order(second);
    expect(kept.status).toBe('COMPLETED');
    expect(kept.backorder.cancelledLines).toEqual([{ sku: 'KEYBOARD-MX', quantity: 2 }]);
    expect(quantitiesOf(kept, 'KEYBOARD-MX')).toMatchObject({ ordered: 2, backordered: 0, cancelled: 2 });
    expect(quantitiesOf(kept, 'CABLE-USB-C')).toMatchObject({ ordered: 1, cancelled: 0, shipped: 1, invoiced: 1 });
    // One shipment (the cable, sent at once) and its invoice; the card is charged for it only.
    expect(kept.shipments.map((s: Record<string, unknown>) => [s.allocationId, s.status])).toEqual([
      ['A1', 'DELIVERED'],
    ]);
    expect(kept.invoices.map((i: { total: number }) => i.total)).toEqual([1178]);
    const books = (globalThis as Record<symbol, unknown>)[Symbol.for('sales-orders.sandbox.payments')] as Map<
      string,
      { status: string; captures?: { amount: number }[] }
    >;
    const card = books.get(`${second}:authorize`);
    expect(card?.status).toBe('VOIDED');
    expect((card?.captures ?? []).reduce((sum, c) => sum + c.amount, 0)).toBe(1178);
    await client.finished(third, ENDED_MS);
    const cancelled = await client.order(third);
    expect([cancelled.status, cancelled.failure?.code]).toEqual(['CANCELLED', 'BackorderExpired']);
    // Other scenarios' backorders expire meanwhile: these two orders' e-mails, one each.
    const mails = await eventually(async () => {
      const sent = (await client.sentEmails()).filter((e) => /items no longer available/.test(String(e.subject)));
      const mine = [second, third].map((orderId) => sent.filter((m) => String(m.subject).includes(orderId)));
      return mine.every((m) => m.length > 0) ? mine.flat() : undefined;
    });
    expect(mails).toHaveLength(2);
    const text = (orderId: string) => JSON.stringify(mails.find((m) => String(m.subject).includes(orderId)));
    expect(text(second)).toContain('2 x KEYBOARD-MX');
    expect(text(second)).toContain('The rest of your order ships as planned');
    expect(text(third)).toContain('the order is cancelled');
    expect(await level('KEYBOARD-MX', 'WH-ROTTERDAM')).toEqual({
      warehouseId: 'WH-ROTTERDAM',
      onHand: 0,
      reserved: 0,
      available: 0,
    });
  }, 300_000);

  it.concurrent('an on-account order that completes short gives back the rest of its credit hold: credit used = what was invoiced', async ({
    expect,
  }) => {
    const db = documents();
    const env = runtime.lambdas.environment();
    const customerId = 'CUST-SHORT';
    await db.send(
      new PutCommand({
        TableName: env.CUSTOMERS_TABLE_NAME as string,
        Item: {
          customerId,
          name: 'Short GmbH',
          email: 'short@example.com',
          billingEmail: 'billing.short@example.com',
          status: 'active',
          paymentTerms: { type: 'on_account', netDays: 30 },
          creditLimit: 1_000_000,
          openBalance: 0,
          creditUsed: 0,
          currency: 'EUR',
          discountBasisPoints: 0,
          taxProfile: { country: 'DE', exempt: false },
          billingAddress: {
            name: 'Short GmbH',
            line1: 'Hauptstr. 1',
            city: 'Berlin',
            postalCode: '10115',
            country: 'DE',
          },
        },
      }),
    );
    const waiting = await productOutOfStock('KEYBOARD-SHORT', 11_900);
    const orderId = await client.placeOrder(
      orderBody({
        customerId,
        payment: { method: 'on_account' },
        fulfilmentPolicy: 'ship_available',
        lines: [line('CABLE-USB-C', 1), waiting],
      }),
    );
    // The cable ships and is invoiced; the keyboards wait until the backorder expires.
    expect((await client.finished(orderId, ENDED_MS)).status).toBe('SUCCEEDED');
    const order = await client.order(orderId);
    expect(order.status).toBe('COMPLETED');
    expect(order.backorder.cancelledLines).toEqual([{ sku: 'KEYBOARD-SHORT', quantity: 2 }]);
    const invoiced = order.invoices.reduce((sum: number, i: { total: number }) => sum + i.total, 0);
    expect(invoiced).toBe(1178);
    const { Item: stored } = await db.send(
      new GetCommand({
        TableName: env.ORDERS_TABLE_NAME as string,
        Key: { orderId, sk: ORDER_SK },
        ConsistentRead: true,
      }),
    );
    expect(stored?.creditHold).toBeUndefined();
    expect(stored?.creditReleased).toBe(true);
    const { Item: account } = await db.send(
      new GetCommand({ TableName: env.CUSTOMERS_TABLE_NAME as string, Key: { customerId }, ConsistentRead: true }),
    );
    expect(account).toMatchObject({ creditUsed: invoiced, openBalance: invoiced });
    db.destroy();
  }, 300_000);

  it.concurrent('a delivered, invoiced order completes when the rest of its authorization cannot be voided: compensationFailed, not FAILED', async ({
    expect,
  }) => {
    const waiting = await productOutOfStock('KEYBOARD-VOID', 11_900);
    const orderId = await client.placeOrder(
      orderBody({
        payment: { method: 'card', token: 'tok_void_error' },
        fulfilmentPolicy: 'ship_available',
        lines: [line('CABLE-USB-C', 1), waiting],
      }),
    );
    // The cable ships, is captured and invoiced; the keyboards expire; the provider refuses every void.
    expect((await client.finished(orderId, ENDED_MS)).status).toBe('SUCCEEDED');
    const order = await client.order(orderId);
    expect([order.status, order.failure]).toEqual(['COMPLETED', undefined]);
    expect(order.invoices.map((i: { total: number }) => i.total)).toEqual([1178]);
    const db = documents();
    const { Item: stored } = await db.send(
      new GetCommand({
        TableName: runtime.lambdas.environment().ORDERS_TABLE_NAME as string,
        Key: { orderId, sk: ORDER_SK },
        ConsistentRead: true,
      }),
    );
    db.destroy();
    expect(stored?.compensationFailed).toEqual(['payment']);
  }, 300_000);

  it.concurrent("the reconciler's sweep serves orders a stock change left waiting (the route failed before serving them)", async ({
    expect,
  }) => {
    for (const warehouseId of ['WH-BERLIN', 'WH-ROTTERDAM']) await client.setOnHand('MOUSE-ERGO', 0, warehouseId);
    const orderId = await client.placeOrder(
      orderBody({ lines: [line('MOUSE-ERGO', 2)], fulfilmentPolicy: 'ship_available' }),
    );
    await client.waitForStatus(orderId, 'BACKORDERED');
    const db = documents();
    // AwaitBackorder serves the queue its order waits in once when it parks its token: change the stock after that.
    await eventually(async () => {
      const { Item } = await db.send(
        new GetCommand({
          TableName: runtime.lambdas.environment().ORDERS_TABLE_NAME as string,
          Key: { orderId, sk: ORDER_SK },
          ConsistentRead: true,
        }),
      );
      return Item?.backorder?.taskToken ? true : undefined;
    });
    await sleep(1_500); // …and its one look at the (empty) stock right after parking is over.
    // The stock changed, as a PUT stock that failed right after its update leaves it: nobody served.
    await db.send(
      new UpdateCommand({
        TableName: runtime.lambdas.environment().STOCK_TABLE_NAME as string,
        Key: { sku: 'MOUSE-ERGO', warehouseId: 'WH-ROTTERDAM' },
        UpdateExpression: 'SET onHand = :n, available = :n',
        ExpressionAttributeValues: { ':n': 2 },
      }),
    );
    await sleep(500);
    expect((await client.order(orderId)).status).toBe('BACKORDERED');
    const reconciler = runtime.deployment.functions.find((f) => f.name.endsWith('ReconcileOrders'))?.arn as string;
    const sweep = { 'detail-type': 'Scheduled Event', source: 'aws.events', id: crypto.randomUUID(), detail: {} };
    await runtime.lambdas.invoke(reconciler, sweep);
    await runtime.lambdas.invoke(reconciler, { ...sweep, id: crypto.randomUUID() }); // again: nothing moves twice
    expect((await client.finished(orderId, ENDED_MS)).status).toBe('SUCCEEDED');
    const order = await client.order(orderId);
    expect(order.status).toBe('COMPLETED');
    expect(order.allocations.map((a: Record<string, unknown>) => [a.warehouseId, a.lines])).toEqual([
      ['WH-ROTTERDAM', [{ sku: 'MOUSE-ERGO', quantity: 2 }]],
    ]);
    expect(await level('MOUSE-ERGO', 'WH-ROTTERDAM')).toMatchObject({ onHand: 0, reserved: 0, available: 0 });
  }, 300_000);

  it('PUT stock racing 50 concurrent reservations never oversells, and every warehouse balances', async () => {
    const sku = 'GADGET-PRO';
    await client.setOnHand(sku, 30, 'WH-BERLIN');
    let lowest = Number.POSITIVE_INFINITY;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const w of await levels(sku)) lowest = Math.min(lowest, w.available, w.reserved, w.onHand);
        await sleep(50);
      }
    })();
    const puts: number[] = [];
    let orders: Record<string, any>[];
    try {
      const ids = Promise.all(
        Array.from({ length: 50 }, () => client.placeOrder(orderBody({ lines: [line(sku, 1)] }))),
      );
      for (const onHand of [25, 40, 20, 35, 10, 30]) {
        const response = await erp().request('PUT', `/products/${sku}/stock`, { onHand });
        puts.push(response.status);
        if (response.status === 409) expect(response.body?.error.code).toBe('StockBelowReserved');
        await sleep(50);
      }
      // Generous: fifty orders through every stage on a loaded 2-core machine (about 20 s on a quiet one).
      await client.allFinished(await ids, 150_000);
      orders = await Promise.all((await ids).map((id) => client.order(id)));
    } finally {
      sampling = false;
      await sampler;
    }
    expect(puts.every((status) => status === 200 || status === 409)).toBe(true);
    const rejected = orders.filter((o) => o.status === 'REJECTED');
    expect(rejected.every((o) => o.failure.code === 'OutOfStock')).toBe(true);
    expect(orders.filter((o) => o.status !== 'REJECTED').every((o) => o.status === 'COMPLETED')).toBe(true);
    expect(lowest).toBeGreaterThanOrEqual(0);
    // After everything settles, for every SKU and warehouse: nothing reserved, on hand = available.
    const products = (await client.as('checkout').request('GET', '/products')).body as unknown as {
      sku: string;
      warehouses: Level[];
    }[];
    for (const product of products)
      for (const w of product.warehouses) {
        const where = `${product.sku}@${w.warehouseId}`;
        expect(w.available, where).toBeGreaterThanOrEqual(0);
        expect(w.onHand, where).toBe(w.available + w.reserved);
        expect(w.reserved, where).toBe(0);
      }
  }, 240_000);
});
