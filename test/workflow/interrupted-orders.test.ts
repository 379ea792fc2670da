import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_UNREACHABLE_POSTAL_CODE,
  SandboxCarrier,
  sandboxTrackingNumber,
} from '../../functions/adapters/carrier.ts';
import { OrdersRepository } from '../../functions/adapters/orders-repository.ts';
import { paymentKey, SandboxPaymentProvider } from '../../functions/adapters/payments.ts';
import { newOrder } from '../../functions/core/order.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { address, eventually, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * Orders whose workflow is stopped by a person (StopExecution), or ends outside its own Catch
 * paths, on the real ASL and the local runtime: the status-change rule and the scheduled sweep
 * read from the template hand them to the reconciler, which compensates and fails them.
 */
let runtime: LocalRuntime;
let client: TestClient;
let dynamo: DynamoDBClient;
// Each of the three retries waits this long, so an order stays held for about three times as long: long
// enough for the first test's other orders to get where it stops them. 6 and 8 s were not, once, on a slow
// machine running another file beside it (the order whose authorization was pending had failed meanwhile).
const RETRY_WAIT_MS = 15_000;
const CARRIER_RETRY_MS = 15_000;

beforeAll(async () => {
  runtime = await startTestRuntime({
    autoDeliver: false,
    // tok_error's retries wait long enough to stop an order whose authorization is pending;
    // a failing void is retried without waiting.
    // An unreachable carrier is retried every CARRIER_RETRY_MS: an order is held after its payment was
    // authorized and before anything was shipped or charged (charges are per shipment, at dispatch).
    retryIntervalOverrides: {
      AuthorizePayment: RETRY_WAIT_MS,
      VoidPayment: 0,
      CreateShipment: [0, 0, CARRIER_RETRY_MS, 0],
    },
    // The status change and Lambda's two retries are three runs; the fourth is the last allowed.
    // No grace for an invoice still being issued (its own unit test covers it): orders stopped after capture close at once.
    environment: { POWERTOOLS_LOG_LEVEL: 'ERROR', RECONCILE_MAX_ATTEMPTS: '4', RECONCILE_INVOICE_GRACE_SECONDS: '0' },
  });
  client = new TestClient(runtime);
  dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: runtime.urls.dynamodb,
    credentials: runtime.credentials,
  });
});

afterAll(async () => {
  await runtime?.stop();
});

const tableOf = (part: string) => runtime.deployment.tables.find((t) => t.TableName?.includes(part))?.TableName;

async function creditUsed(customerId: string): Promise<number> {
  const item = await dynamo.send(
    new GetItemCommand({
      TableName: tableOf('Customers'),
      Key: { customerId: { S: customerId } },
      ConsistentRead: true,
    }),
  );
  return Number(item.Item?.creditUsed?.N ?? Number.NaN);
}

async function eventsOf(orderId: string): Promise<string[]> {
  const response = await fetch(`${runtime.urls.eventbridge}/events`);
  const events = (await response.json()) as { 'detail-type': string; detail: { orderId?: string } }[];
  return events.filter((e) => e.detail.orderId === orderId).map((e) => e['detail-type']);
}

async function stock(sku: string) {
  const product = await client.product(sku);
  return { available: product.available as number, reserved: product.reserved as number };
}

async function stop(orderId: string) {
  await client.sfn.send(
    new StopExecutionCommand({
      executionArn: client.executionArn(orderId),
      error: 'Operator',
      cause: 'stopped by ops',
    }),
  );
}

const waitForFailed = (orderId: string) => client.waitForStatus(orderId, 'FAILED');

/** An order shipped to where the sandbox carrier cannot go: it waits in CreateShipment's retries. */
const heldBody = (overrides: Record<string, unknown> = {}) =>
  orderBody({ shippingAddress: { ...address, postalCode: SANDBOX_UNREACHABLE_POSTAL_CODE }, ...overrides });

/** Held before dispatch: authorized (card) or credit held (on account), stock reserved, the booking asked for. */
const waitForHeld = (orderId: string) =>
  eventually(async () => {
    const order = await client.order(orderId);
    return order.shipments[0]?.status === 'BOOKING' ? order : undefined;
  });

const fnArn = (name: string) =>
  runtime.deployment.functions.find((f) => f.name.endsWith(name))?.arn ?? `no function ${name}`;

const statusChange = (orderId: string, status: string) => ({
  version: '0',
  id: crypto.randomUUID(),
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  detail: { name: orderId, status },
});

/** The order item as stored (storage attributes included). */
async function stored(orderId: string) {
  const item = await dynamo.send(
    new GetItemCommand({
      TableName: tableOf('Orders'),
      Key: { orderId: { S: orderId }, sk: { S: 'ORDER' } },
      ConsistentRead: true,
    }),
  );
  return { reconcileAttempts: Number(item.Item?.reconcileAttempts?.N ?? 0), closing: item.Item?.closing?.S };
}

/** A card order written straight to the table and brought to `status`, with no execution (as if it was stopped). */
async function openOrder(status: 'RESERVED' | 'PAYMENT_AUTHORIZED'): Promise<string> {
  const orders = new OrdersRepository(tableOf('Orders') as string);
  const orderId = `ord-${crypto.randomUUID().replaceAll('-', '').slice(0, 26)}`;
  const request = orderBody({ lines: [{ sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1250 }] }) as never;
  await orders.create(newOrder({ orderId, request, channel: 'web', now: new Date() }));
  await orders.recordStage(orderId, 'OrderStockReserved', new Date(), { status });
  return orderId;
}

describe('interrupted orders', () => {
  it('stopping 5 executions at different stages ends each order FAILED WorkflowInterrupted with stock, credit and authorization given back; what was shipped and invoiced stays', async () => {
    const skus = ['WIDGET-RED', 'GADGET-PRO', 'CABLE-USB-C', 'DOCK-4K', 'KEYBOARD-MX'];
    const before = Object.fromEntries(await Promise.all(skus.map(async (sku) => [sku, await stock(sku)] as const)));
    const creditBefore = await creditUsed('CUST-1001');
    const line = (sku: string, quantity: number, unitPrice: number) => ({ lines: [{ sku, quantity, unitPrice }] });

    // A: card, authorized, its booking asked for (the carrier does not answer).
    const a = await client.placeOrder(heldBody(line('WIDGET-RED', 2, 1250)));
    // B: on account (credit held), its booking asked for.
    const b = await client.placeOrder(
      heldBody({ customerId: 'CUST-1001', payment: { method: 'on_account' }, ...line('GADGET-PRO', 1, 8900) }),
    );
    // C: card authorization pending (the provider failed; the workflow waits to retry).
    const c = await client.placeOrder(
      orderBody({ payment: { method: 'card', token: 'tok_error' }, ...line('CABLE-USB-C', 3, 990) }),
    );
    // D: on account, shipped and invoiced at dispatch, the carrier picked the parcel up (in transit).
    const d = await client.placeOrder(
      orderBody({ customerId: 'CUST-1001', payment: { method: 'on_account' }, ...line('DOCK-4K', 1, 18900) }),
    );
    // E: stopped right after it was placed, wherever it got to.
    const e = await client.placeOrder(orderBody(line('KEYBOARD-MX', 1, 11900)));
    await stop(e);

    await waitForHeld(a);
    const heldB = await waitForHeld(b);
    const shippedD = await client.waitForStatus(d, 'INVOICED');
    expect((await client.carrierEvent(shippedD.shipments[0].trackingNumber, 'IN_TRANSIT')).status).toBe(202);
    await eventually(async () => ((await client.order(c)).payment.status === 'PENDING' ? true : undefined));
    expect(await creditUsed('CUST-1001')).toBe(creditBefore + heldB.totals.total + shippedD.totals.total);
    await Promise.all([a, b, c, d].map(stop));

    const orders = Object.fromEntries(
      await Promise.all([a, b, c, d, e].map(async (id) => [id, await waitForFailed(id)])),
    );
    for (const id of [a, b, c, d, e]) {
      const order = orders[id];
      expect(order.failure).toMatchObject({ code: 'WorkflowInterrupted' });
      expect(order.failure.message).toContain('ABORTED');
      expect(order.failure.compensationFailed).toBeUndefined();
      expect(['PENDING', 'AUTHORIZED']).not.toContain(order.payment.status);
    }
    expect(orders[a].payment.status).toBe('VOIDED');
    expect(orders[c].payment.status).toBe('VOIDED');
    expect(orders[a].shipments[0].status).toBe('CANCELLED');
    expect(orders[b].shipments[0].status).toBe('CANCELLED');
    expect(orders[d].shipments[0].status).toBe('IN_TRANSIT');
    // D's goods left and were invoiced: the invoice stands and the failure says so.
    expect(orders[d].failure.missing).toBeUndefined();
    expect(orders[d].invoices).toHaveLength(1);
    expect(orders[d].failure.message).toContain("Invoices issued; only the order's completion is missing");

    // Every unit is back where it was, except the parcel that left with the carrier.
    for (const sku of ['WIDGET-RED', 'GADGET-PRO', 'CABLE-USB-C', 'KEYBOARD-MX'])
      expect(await stock(sku)).toEqual(before[sku]);
    const dock = before['DOCK-4K'] as { available: number; reserved: number };
    expect(await stock('DOCK-4K')).toEqual({ available: dock.available - 1, reserved: dock.reserved });
    // B's hold is given back; D's invoice is owed (its credit stays in use as open balance).
    expect(await creditUsed('CUST-1001')).toBe(creditBefore + shippedD.totals.total);

    await runtime.drainEvents();
    expect(await eventsOf(a)).toEqual(
      expect.arrayContaining(['OrderPaymentVoided', 'OrderStockReleased', 'OrderFailed']),
    );
    expect(await eventsOf(c)).toEqual(
      expect.arrayContaining(['OrderPaymentVoided', 'OrderStockReleased', 'OrderFailed']),
    );

    // The authorization C was waiting to retry cannot come to life later: its key was voided.
    const history = await client.sfn.send(new GetExecutionHistoryCommand({ executionArn: client.executionArn(c) }));
    expect(history.events?.some((event) => event.type === 'ExecutionAborted')).toBe(true);
  });

  it('reconciling the same order three times at once compensates it once', async () => {
    const before = await stock('GADGET-MINI');
    const creditBefore = await creditUsed('CUST-1001');
    const orderId = await client.placeOrder(
      heldBody({
        customerId: 'CUST-1001',
        payment: { method: 'on_account' },
        lines: [{ sku: 'GADGET-MINI', quantity: 3, unitPrice: 3900 }],
      }),
    );
    await waitForHeld(orderId);
    const statusChange = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      detail: { name: orderId, status: 'ABORTED' },
    };
    // The real stop (whose status change reaches the reconciler through the rule) and two duplicates.
    const outcomes = await Promise.all([
      stop(orderId),
      runtime.lambdas.invoke(fnArn('ReconcileOrders'), statusChange),
      runtime.lambdas.invoke(fnArn('ReconcileOrders'), { ...statusChange, id: crypto.randomUUID() }),
    ]);
    expect(outcomes.slice(1)).toEqual(
      expect.arrayContaining([expect.objectContaining({ outcome: expect.any(String) })]),
    );
    const order = await waitForFailed(orderId);
    await runtime.drainEvents();
    expect(order.failure.code).toBe('WorkflowInterrupted');
    expect(await stock('GADGET-MINI')).toEqual(before);
    expect(await creditUsed('CUST-1001')).toBe(creditBefore);
    // Recorded once (events are at least once: a repeat may announce it again, consumers count it once).
    expect(order.timeline.filter((e: { type: string }) => e.type === 'OrderFailed')).toHaveLength(1);
    expect(await eventsOf(orderId)).toContain('OrderFailed');
  });

  it('announces compensation again when a compensation step is retried after its work was done', async () => {
    const orderId = await client.placeOrder(
      heldBody({ lines: [{ sku: 'MONITOR-27', quantity: 1, unitPrice: 32900 }] }),
    );
    await waitForHeld(orderId);
    await stop(orderId);
    await waitForFailed(orderId);
    await runtime.drainEvents();
    const count = async (type: string) => (await eventsOf(orderId)).filter((t) => t === type).length;
    const [released, voided] = [await count('OrderStockReleased'), await count('OrderPaymentVoided')];
    expect(released).toBe(1);
    expect(voided).toBe(1);

    // The workflow's ReleaseStock and VoidPayment, retried: the work is done, the events go out again.
    await runtime.lambdas.invoke(fnArn('ReleaseStock'), { orderId });
    await runtime.lambdas.invoke(fnArn('VoidPayment'), { orderId });
    await runtime.drainEvents();
    expect(await count('OrderStockReleased')).toBe(2);
    expect(await count('OrderPaymentVoided')).toBe(2);
    expect((await client.order(orderId)).status).toBe('FAILED');
  });

  it('keeps a stopped order open while its compensation fails, and fails it saying so after the last attempt', async () => {
    const before = await stock('MOUSE-ERGO');
    const stopped = await client.placeOrder(
      heldBody({
        payment: { method: 'card', token: 'tok_void_error' },
        lines: [{ sku: 'MOUSE-ERGO', quantity: 1, unitPrice: 5900 }],
      }),
    );
    await waitForHeld(stopped);
    await stop(stopped);
    // The status change's run and Lambda's two retries each fail (the void keeps failing) ...
    await eventually(async () => ((await stored(stopped)).reconcileAttempts === 3 ? true : undefined));
    await runtime.drainEvents();
    const open = await client.order(stopped);
    // ... so the order stays open, fenced, for the next run; the steps that worked are done.
    expect(open.status).toBe('PAYMENT_AUTHORIZED');
    expect(open.failure).toBeUndefined();
    expect((await stored(stopped)).closing).toEqual(expect.any(String));
    expect(await stock('MOUSE-ERGO')).toEqual(before);

    // The last allowed run (the sweep's, here invoked directly) fails it and says what was not given back.
    await expect(runtime.lambdas.invoke(fnArn('ReconcileOrders'), statusChange(stopped, 'ABORTED'))).resolves.toEqual({
      outcome: 'closed',
    });
    const order = await client.order(stopped);
    expect(order.status).toBe('FAILED');
    expect(order.failure.code).toBe('WorkflowInterrupted');
    expect(order.failure.compensationFailed).toEqual(['payment']);
    expect(order.failure.message).toContain('Compensation failed for: payment');
    expect(order.payment.status).toBe('AUTHORIZED');
  });

  it('retries a compensation step that fails transiently instead of leaving it to ops', async () => {
    const before = await stock('CABLE-USB-C');
    const orderId = await client.placeOrder(
      heldBody({
        payment: { method: 'card', token: 'tok_void_transient' },
        lines: [{ sku: 'CABLE-USB-C', quantity: 1, unitPrice: 990 }],
      }),
    );
    await waitForHeld(orderId);
    await stop(orderId);
    const order = await waitForFailed(orderId);
    expect(order.failure).toEqual({
      code: 'WorkflowInterrupted',
      message: "The order's workflow ended ABORTED before the order finished; it was compensated",
    });
    expect(order.payment.status).toBe('VOIDED');
    expect(order.shipments[0].status).toBe('CANCELLED');
    expect(await stock('CABLE-USB-C')).toEqual(before);
  });

  it('an order stopped after its shipment was captured, while its invoice waits for a number, says it was charged without an invoice', async () => {
    // The invoice numbering is held by a function that stopped answering: IssueInvoice waits.
    const year = new Date().getUTCFullYear();
    const invoices = tableOf('Invoices') as string;
    const lease = (expiresAt: number) =>
      dynamo.send(
        new PutItemCommand({
          TableName: invoices,
          Item: { pk: { S: `LEASE#${year}` }, owner: { S: 'a-stalled-function' }, expiresAt: { N: String(expiresAt) } },
        }),
      );
    await lease(Date.now() + 60_000);
    try {
      const orderId = await client.placeOrder(
        orderBody({ lines: [{ sku: 'KEYBOARD-MX', quantity: 1, unitPrice: 11900 }] }),
      );
      // Captured at dispatch; the invoice is requested but not numbered.
      const captured = await client.waitForStatus(orderId, 'PAYMENT_CAPTURED');
      expect(captured.invoices).toEqual([]);
      await stop(orderId);
      const order = await waitForFailed(orderId);
      expect(order.failure.code).toBe('WorkflowInterrupted');
      expect(order.failure.message).toContain('Payment captured, invoice not issued');
      expect(order.failure.message).not.toContain('compensated');
      expect(order.failure.missing).toEqual(['invoice']);
      expect(order.failure.compensationFailed).toBeUndefined();
      expect(order.payment.status).toBe('CAPTURED');
      // The invoice request was withdrawn: when the numbering resumes, this order gets no invoice.
      await lease(0);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect((await client.order(orderId)).invoices).toEqual([]);
    } finally {
      await lease(0);
    }
  });

  it('fences a reconciled order at the payment provider: a late authorization under its key is refused', async () => {
    const orderId = await openOrder('RESERVED');
    await expect(runtime.lambdas.invoke(fnArn('ReconcileOrders'), statusChange(orderId, 'ABORTED'))).resolves.toEqual({
      outcome: 'closed',
    });
    expect((await client.order(orderId)).status).toBe('FAILED');
    // AuthorizePayment still running past its checks, reaching the provider now:
    await expect(
      new SandboxPaymentProvider().authorize({
        idempotencyKey: paymentKey(orderId, 'authorize'),
        orderId,
        token: 'tok_visa',
        amount: 1250,
        currency: 'EUR',
      }),
    ).rejects.toMatchObject({ name: 'PaymentDeclined' });
  });

  it('forward steps still running refuse to act on an order a reconciler is closing', async () => {
    const orders = new OrdersRepository(tableOf('Orders') as string);
    const orderId = await openOrder('RESERVED');
    await orders.fence(orderId, new Date());
    await expect(runtime.lambdas.invoke(fnArn('AuthorizePayment'), { orderId })).rejects.toMatchObject({
      name: 'OrderClosed',
    });
    await expect(
      runtime.lambdas.invoke(fnArn('CreateShipment'), { orderId, allocationId: 'A1' }),
    ).rejects.toMatchObject({
      name: 'OrderClosed',
    });
    const order = await client.order(orderId);
    expect(order.payment).toEqual({ method: 'card' }); // no intent, no authorization
    expect(order.shipments).toEqual([]);
    expect(new SandboxCarrier({ deliveryMs: 0 }).parcelState(sandboxTrackingNumber(`${orderId}-1`))).toBeUndefined();
  });

  it('cancels a booking whose answer was never recorded (CreateShipment died after the carrier booked)', async () => {
    const orders = new OrdersRepository(tableOf('Orders') as string);
    const orderId = await openOrder('PAYMENT_AUTHORIZED');
    const shipmentId = `${orderId}-1`;
    await orders.recordShipmentIntent({
      orderId,
      shipmentId,
      carrier: 'SANDBOX',
      allocationId: 'A1',
      warehouseId: 'WH-BERLIN',
      lines: [{ sku: 'CABLE-USB-C', quantity: 1 }],
    });
    const carrier = new SandboxCarrier({ deliveryMs: 0 });
    const { trackingNumber } = await carrier.createShipment({ shipmentId, address, parcels: 1 });
    expect(carrier.parcelState(trackingNumber)).toBe('BOOKED');

    await runtime.lambdas.invoke(fnArn('ReconcileOrders'), statusChange(orderId, 'ABORTED'));
    const order = await client.order(orderId);
    expect(order.status).toBe('FAILED');
    expect(order.shipments).toEqual([expect.objectContaining({ shipmentId, carrier: 'SANDBOX', status: 'CANCELLED' })]);
    expect(carrier.parcelState(trackingNumber)).toBe('CANCELLED');
  });

  it('announces OrderFailed again when the reconciler finds the order it failed (the first publish was lost)', async () => {
    const orders = new OrdersRepository(tableOf('Orders') as string);
    const orderId = await openOrder('RESERVED');
    // Recorded by an earlier run whose publish failed: the store has it, the bus never saw it.
    await orders.recordStage(orderId, 'OrderFailed', new Date(), {
      status: 'FAILED',
      set: { failure: { code: 'WorkflowInterrupted', message: 'x' } },
    });
    await runtime.drainEvents();
    expect(await eventsOf(orderId)).not.toContain('OrderFailed');
    await expect(runtime.lambdas.invoke(fnArn('ReconcileOrders'), statusChange(orderId, 'ABORTED'))).resolves.toEqual({
      outcome: 'already-closed',
    });
    await runtime.drainEvents();
    expect(await eventsOf(orderId)).toContain('OrderFailed');
  });

  it('says so on the order when the workflow’s own compensation fails', async () => {
    // Nothing shipped or captured: the carrier stays unreachable until CreateShipment gives up,
    // and the authorization left to void cannot be voided.
    const unshipped = await client.placeOrder(
      heldBody({
        payment: { method: 'card', token: 'tok_void_error' },
        lines: [{ sku: 'MOUSE-ERGO', quantity: 1, unitPrice: 5900 }],
      }),
    );
    const execution = await client.finished(unshipped, 150_000);
    expect(execution.status).toBe('FAILED');
    const failed = await client.order(unshipped);
    expect(failed.failure.code).toBe('CarrierUnavailable');
    expect(failed.failure.compensationFailed).toEqual(['payment']);
  });

  it('the sweep starts an order left RECEIVED without an execution', async () => {
    const orders = new OrdersRepository(tableOf('Orders') as string);
    const orderId = `ord-${crypto.randomUUID().replaceAll('-', '').slice(0, 26)}`;
    const request = orderBody({ lines: [{ sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1250 }] }) as never;
    const createdAt = new Date(Date.now() - 60 * 60 * 1000);
    expect(await orders.create(newOrder({ orderId, request, channel: 'web', now: createdAt }))).toBe(true);
    expect(await client.order(orderId)).toMatchObject({ status: 'RECEIVED' });

    runtime.fireSchedule('WorkflowOpenOrdersSweep');
    const shipped = await client.waitForStatus(orderId, 'INVOICED');
    await client.carrierEvent(shipped.shipments[0].trackingNumber, 'DELIVERED');
    expect((await client.finished(orderId)).status).toBe('SUCCEEDED');
    expect((await client.order(orderId)).status).toBe('COMPLETED');
  });

  it('the sweep reconciles an open order whose execution ended without its status change being handled', async () => {
    const orders = new OrdersRepository(tableOf('Orders') as string);
    const orderId = `ord-${crypto.randomUUID().replaceAll('-', '').slice(0, 26)}`;
    // An execution that has ended (here: it found no order) ...
    await client.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: runtime.stateMachineArn,
        name: orderId,
        input: JSON.stringify({ orderId }),
      }),
    );
    expect((await client.finished(orderId)).status).toBe('FAILED');
    await runtime.drainEvents();
    // ... and an open order of that name the status change never saw.
    const request = orderBody({ lines: [{ sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1250 }] }) as never;
    await orders.create(newOrder({ orderId, request, channel: 'web', now: new Date(Date.now() - 60 * 60 * 1000) }));

    runtime.fireSchedule('WorkflowOpenOrdersSweep');
    const order = await waitForFailed(orderId);
    expect(order.failure).toEqual({
      code: 'WorkflowInterrupted',
      message: "The order's workflow ended FAILED before the order finished; it was compensated",
    });
  });

  it('never moves an order’s status backwards, and keeps personal data out of failures', async () => {
    const orders = new OrdersRepository(tableOf('Orders') as string);
    const orderId = `ord-${crypto.randomUUID().replaceAll('-', '').slice(0, 26)}`;
    const request = orderBody() as never;
    await orders.create(newOrder({ orderId, request, channel: 'web', now: new Date() }));
    await orders.recordStage(orderId, 'OrderDelivered', new Date(), { status: 'DELIVERED' });
    // A late stage (e.g. a shipment retry recorded after the carrier's delivery) keeps the status.
    const { order, recorded } = await orders.recordStage(orderId, 'OrderShipped', new Date(), { status: 'SHIPPED' });
    expect(recorded).toBe(true);
    expect(order.status).toBe('DELIVERED');
    expect(Object.keys(order.stages)).toEqual(expect.arrayContaining(['OrderDelivered', 'OrderShipped']));
    expect((await client.order(orderId)).status).toBe('DELIVERED');
    expect(JSON.stringify(await client.order(orderId))).not.toContain('"openOrder"');
    expect(address.name).toBe('Jane Doe');
  });
});
