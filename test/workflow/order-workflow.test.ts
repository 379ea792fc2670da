import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_TOTAL_ENVIRONMENTS } from '../../local/lambda.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * The real ASL on the local runtime: real handlers, DynamoDB Local, SES, S3, EventBridge.
 * The test plays the carrier (signed webhook calls); AwaitDelivery's 14-day timeout is
 * compressed to a few seconds so a silent carrier can be observed.
 */
let runtime: LocalRuntime;
let client: TestClient;
/**
 * Long enough for a test on a busy 2-core machine to see the parcel dispatched and report its first
 * scan (three orders at once in the invoice-number test), short enough to watch a silent carrier.
 */
const DELIVERY_TIMEOUT_MS = 10_000;
const DELIVERY_HEARTBEAT_MS = 8_000;

beforeAll(async () => {
  runtime = await startTestRuntime({
    autoDeliver: false,
    taskTimeoutOverrides: { AwaitDelivery: { timeoutMs: DELIVERY_TIMEOUT_MS, heartbeatMs: DELIVERY_HEARTBEAT_MS } },
    // Orders for more than the stock are above EUR 5,000.00: no high-value approval here (approval.test.ts).
    environment: { POWERTOOLS_LOG_LEVEL: 'ERROR', HIGH_VALUE_THRESHOLDS: 'EUR=100000000' },
  });
  client = new TestClient(runtime);
});

afterAll(async () => {
  await runtime?.stop();
});

/** The customer's credit in use, read from the customers table. */
async function creditUsed(customerId: string): Promise<number> {
  const dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: runtime.urls.dynamodb,
    credentials: runtime.credentials,
  });
  const table = runtime.deployment.tables.find((t) => t.TableName?.includes('Customers'))?.TableName;
  const item = await dynamo.send(
    new GetItemCommand({ TableName: table, Key: { customerId: { S: customerId } }, ConsistentRead: true }),
  );
  return Number(item.Item?.creditUsed?.N ?? Number.NaN);
}

/** Waits until `count` shipments are shipped, captured and invoiced (awaiting their delivery). */
async function dispatched(orderId: string, count = 1) {
  return eventually(async () => {
    const order = await client.order(orderId);
    const ready = order.shipments.filter((s: { invoiceNumber?: string }) => s.invoiceNumber);
    return ready.length >= count ? order : undefined;
  });
}

/** The states the order's execution entered, in order (Map iterations' states included). */
async function statesEntered(orderId: string): Promise<string[]> {
  const history = await client.sfn.send(
    new GetExecutionHistoryCommand({ executionArn: client.executionArn(orderId), maxResults: 1000 }),
  );
  return (history.events ?? [])
    .filter((e) => e.type?.endsWith('StateEntered'))
    .map((e) => e.stateEnteredEventDetails?.name ?? '');
}

/** Acts as the carrier: once the order shipped, reports it in transit and delivered. */
async function deliver(orderId: string): Promise<string> {
  const shipped = await dispatched(orderId);
  const trackingNumber = shipped.shipments[0].trackingNumber as string;
  for (const status of ['IN_TRANSIT', 'DELIVERED']) {
    const answer = await client.carrierEvent(trackingNumber, status);
    // The note says why a 200 came instead (e.g. the order already FAILED: its delivery wait timed out).
    expect({ status: answer.status, note: answer.body?.note }).toEqual({ status: 202, note: undefined });
  }
  return trackingNumber;
}

describe('order workflow on the local runtime', () => {
  it('starts every function of the deployment (its INIT) in an environment of its own, with what the template gives it', async () => {
    expect(await runtime.lambdas.initialize()).toEqual([]);
    // Within the budget of environments: the least recently used made room for the next.
    const counts = Object.values(runtime.lambdas.environmentCounts());
    expect(counts.reduce((sum, c) => sum + c.warm + c.busy, 0)).toBeLessThanOrEqual(DEFAULT_MAX_TOTAL_ENVIRONMENTS);
  });

  it('takes a card order to COMPLETED with an invoice e-mail carrying the PDF', async () => {
    const before = await client.product('WIDGET-BLUE');
    const orderId = await client.placeOrder(orderBody());
    const trackingNumber = await deliver(orderId);
    const execution = await client.finished(orderId);
    expect(execution.status).toBe('SUCCEEDED');

    const order = await client.order(orderId);
    expect(order.status).toBe('COMPLETED');
    expect(order.totals).toEqual({
      subtotal: 6400,
      discount: 0,
      tax: 1216,
      total: 7616,
      taxByRate: [{ rateBasisPoints: 1900, net: 6400, tax: 1216 }],
    });
    expect(order.taxTreatment).toBe('domestic');
    expect(order.invoices).toHaveLength(1);
    const [invoice] = order.invoices;
    expect(invoice.number).toMatch(/^INV-\d{4}-\d{6}$/);
    expect(invoice.total).toBe(7616);
    expect(order.shipments).toEqual([
      {
        shipmentId: `${orderId}-A1`,
        allocationId: 'A1',
        warehouseId: 'WH-BERLIN',
        lines: [
          { sku: 'WIDGET-BLUE', quantity: 2 },
          { sku: 'GADGET-MINI', quantity: 1 },
        ],
        carrier: 'SANDBOX',
        trackingNumber,
        status: 'DELIVERED',
        invoiceNumber: invoice.number,
      },
    ]);
    expect(order.payment.status).toBe('CAPTURED');
    expect(order.timeline.map((e: { type: string }) => e.type)).toEqual([
      'OrderReceived',
      'OrderValidated',
      'OrderStockReserved',
      'OrderPaymentAuthorized',
      'OrderShipped',
      'OrderPaymentCaptured',
      'OrderInvoiced',
      'OrderDelivered',
      'OrderCompleted',
    ]);

    // Nothing was backordered: the workflow completes without asking for the backorder again (CheckBackorder),
    // and ends on CompleteOrder: 12 billed transitions.
    expect(await statesEntered(orderId)).toEqual([
      'ValidateOrder',
      'NeedsApproval',
      'ReserveStock',
      'ShipNow',
      'AuthorizePayment',
      'FulfilShipments',
      'CreateShipment',
      'CapturePayment',
      'IssueInvoice',
      'AwaitDelivery',
      'AllShipped',
      'CompleteOrder',
    ]);

    const after = await client.product('WIDGET-BLUE');
    expect(after.available).toBe(before.available - 2);
    expect(after.reserved).toBe(before.reserved);

    const email = (await client.sentEmails()).find((e) => String(e.subject).includes(invoice.number));
    expect(email).toBeDefined();
    expect(email?.destination.to).toEqual(['jane.doe@example.com']);
    expect(email?.attachments).toEqual([
      expect.objectContaining({ filename: `${invoice.number}.pdf`, contentType: 'application/pdf' }),
    ]);

    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: runtime.urls.s3,
      forcePathStyle: true,
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    });
    const bucket = runtime.deployment.buckets.find((b) => b.includes('documents') && !b.includes('log')) as string;
    const pdf = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: `invoices/${invoice.number.slice(4, 8)}/${invoice.number}.pdf`,
      }),
    );
    const bytes = await pdf.Body?.transformToByteArray();
    expect(
      Buffer.from(bytes ?? [])
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
  });

  it('a partly backordered order ships what is there, then waits for the rest; a receipt fills it and it completes', async () => {
    await client.setOnHand('BOOK-SETUP', 1, 'WH-BERLIN');
    await client.setOnHand('BOOK-SETUP', 0, 'WH-ROTTERDAM');
    const orderId = await client.placeOrder(
      orderBody({ lines: [{ sku: 'BOOK-SETUP', quantity: 3, unitPrice: 2490 }], fulfilmentPolicy: 'ship_available' }),
    );
    await deliver(orderId);
    // Delivered, yet the order waits for its two missing books: CheckBackorder read the backorder after shipping.
    const waiting = await eventually(async () => {
      const states = await statesEntered(orderId);
      return states.includes('AwaitBackorder') ? states : undefined;
    });
    expect(waiting.slice(waiting.indexOf('AwaitDelivery') + 1)).toEqual([
      'AllShipped',
      'CheckBackorder',
      'BackorderLeft',
      'AwaitBackorder',
    ]);
    const execution = await client.sfn.send(
      new DescribeExecutionCommand({ executionArn: client.executionArn(orderId) }),
    );
    expect(execution.status).toBe('RUNNING');
    const parked = await client.order(orderId);
    expect(parked.status).not.toBe('COMPLETED');
    expect(parked.backorder.lines).toEqual([{ sku: 'BOOK-SETUP', quantity: 2 }]);

    // Two arrive in Rotterdam: the backorder is filled, ships as a second shipment, and the order completes.
    await client.setOnHand('BOOK-SETUP', 2, 'WH-ROTTERDAM');
    const second = await eventually(async () => {
      const order = await client.order(orderId);
      return order.shipments[1]?.invoiceNumber ? order.shipments[1] : undefined;
    });
    expect((await client.carrierEvent(second.trackingNumber, 'DELIVERED')).status).toBe(202);
    expect((await client.finished(orderId)).status).toBe('SUCCEEDED');
    const order = await client.order(orderId);
    expect(order.status).toBe('COMPLETED');
    expect(order.shipments.map((s: { warehouseId: string; status: string }) => [s.warehouseId, s.status])).toEqual([
      ['WH-BERLIN', 'DELIVERED'],
      ['WH-ROTTERDAM', 'DELIVERED'],
    ]);
    // Filled in full: nothing waits any more, so the second shipment completes the order without a second check.
    const states = await statesEntered(orderId);
    expect(states.filter((s) => s === 'CheckBackorder')).toHaveLength(1);
    expect(states.slice(-2)).toEqual(['AllShipped', 'CompleteOrder']);
  });

  it('fails a declined card and puts the stock back where it was', async () => {
    const before = await client.product('GADGET-PRO');
    const orderId = await client.placeOrder(
      orderBody({
        lines: [{ sku: 'GADGET-PRO', quantity: 3, unitPrice: 8900 }],
        payment: { method: 'card', token: 'tok_declined' },
      }),
    );
    const execution = await client.finished(orderId);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('PaymentDeclined');
    const order = await client.order(orderId);
    expect(order.status).toBe('FAILED');
    expect(order.failure).toEqual({
      code: 'PaymentDeclined',
      message: 'Card declined by the issuer (sandbox tok_declined)',
    });
    expect(order.timeline.map((e: { type: string }) => e.type)).toContain('OrderStockReleased');
    const after = await client.product('GADGET-PRO');
    expect({ available: after.available, reserved: after.reserved }).toEqual({
      available: before.available,
      reserved: before.reserved,
    });
  });

  it('rejects an order for more than the stock and reserves nothing', async () => {
    const [dockBefore, cableBefore] = [await client.product('DOCK-4K'), await client.product('CABLE-USB-C')];
    const orderId = await client.placeOrder(
      orderBody({
        lines: [
          { sku: 'CABLE-USB-C', quantity: 1, unitPrice: 990 },
          { sku: 'DOCK-4K', quantity: dockBefore.available + 1, unitPrice: 18900 },
        ],
      }),
    );
    const execution = await client.finished(orderId);
    expect(execution.status).toBe('SUCCEEDED'); // a business outcome, not an operational failure
    const order = await client.order(orderId);
    expect(order.status).toBe('REJECTED');
    expect(order.failure.code).toBe('OutOfStock');
    expect(order.failure.message).toContain(
      `DOCK-4K (requested ${dockBefore.available + 1}, available ${dockBefore.available})`,
    );
    expect(order.failure.message).not.toContain('CABLE-USB-C');
    expect(await client.product('DOCK-4K')).toEqual(dockBefore);
    expect(await client.product('CABLE-USB-C')).toEqual(cableBefore);
  });

  it('rejects a changed price naming the line; an on-account order beyond the credit limit waits for an approver', async () => {
    const wrongPrice = await client.placeOrder(
      orderBody({ lines: [{ sku: 'WIDGET-RED', quantity: 1, unitPrice: 999 }] }),
    );
    const overCredit = await client.placeOrder(
      orderBody({
        customerId: 'CUST-1003',
        lines: [{ sku: 'MONITOR-27', quantity: 1, unitPrice: 32900 }],
        payment: { method: 'on_account' },
      }),
    );
    await client.finished(wrongPrice);
    const mismatch = await client.order(wrongPrice);
    expect(mismatch.status).toBe('REJECTED');
    expect(mismatch.failure).toEqual({
      code: 'PriceMismatch',
      message: 'Prices differ from the price list: lines[0] WIDGET-RED list price 1250, given 999',
    });
    // Not rejected outright: it waits in AwaitApproval, and is rejected when its approver says no.
    const { approvalId, signature } = await client.approvalRequest(overCredit);
    expect((await client.order(overCredit)).status).toBe('VALIDATED');
    expect((await client.decideApproval(approvalId, { decision: 'reject', signature })).status).toBe(200);
    await client.finished(overCredit);
    const credit = await client.order(overCredit);
    expect(credit.status).toBe('REJECTED');
    expect(credit.failure.code).toBe('ApprovalRejected');
  });

  it('holds on-account credit while an order is in progress: of two racing for the last credit one waits for approval, and a rejection gives the hold back', async () => {
    const usedBefore = await creditUsed('CUST-1003'); // limit 20000, 15000 in use
    const body = () =>
      orderBody({
        customerId: 'CUST-1003',
        lines: [{ sku: 'CABLE-USB-C', quantity: 3, unitPrice: 990 }],
        payment: { method: 'on_account' },
      });
    const [first, second] = await Promise.all([client.placeOrder(body()), client.placeOrder(body())]);
    // The loser of the race (by the pre-check or by the hold's condition) waits for an approver.
    const waiting = await eventually(async () => {
      const mails = await client.sentEmails();
      // Only approval requests: the winner's invoice e-mail also names its order.
      const ids = [first, second].filter((id) =>
        mails.some((m) => String(m.subject).includes(`Approval needed: order ${id}`)),
      );
      return ids.length > 0 ? ids : undefined;
    });
    expect(waiting).toHaveLength(1);
    const loser = waiting[0] as string;
    const { text, approvalId, signature } = await client.approvalRequest(loser);
    expect(text).toMatch(/Remaining credit: .*14\.66/);
    expect(await creditUsed('CUST-1003')).toBe(usedBefore + 3534);
    expect((await client.decideApproval(approvalId, { decision: 'reject', signature })).status).toBe(200);
    await client.finished(loser);
    expect((await client.order(loser)).failure.code).toBe('ApprovalRejected');

    // An on-account order that takes a hold and is then rejected (out of stock) gives it back.
    await client.setStock('MONITOR-27', 1);
    const outOfStock = await client.placeOrder(
      orderBody({
        customerId: 'CUST-1001',
        lines: [{ sku: 'MONITOR-27', quantity: 2, unitPrice: 32900 }],
        payment: { method: 'on_account' },
      }),
    );
    await client.finished(outOfStock);
    const order = await client.order(outOfStock);
    expect(order.failure.code).toBe('OutOfStock');
    expect(order.timeline.map((e: { type: string }) => e.type)).toContain('OrderValidated'); // the hold was taken
    expect(await creditUsed('CUST-1001')).toBe(0);
  });

  it('retries a transient payment error (tok_error) to success', async () => {
    const orderId = await client.placeOrder(orderBody({ payment: { method: 'card', token: 'tok_error' } }));
    await deliver(orderId);
    const execution = await client.finished(orderId);
    expect(execution.status).toBe('SUCCEEDED');
    expect((await client.order(orderId)).status).toBe('COMPLETED');
    const history = await client.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: client.executionArn(orderId), maxResults: 1000 }),
    );
    const failedAttempts = (history.events ?? []).filter(
      (e) => e.type === 'TaskFailed' && e.taskFailedEventDetails?.error === 'PaymentProviderUnavailable',
    );
    expect(failedAttempts).toHaveLength(2);
  });

  it('ends an order whose delivery is never confirmed FAILED; its capture and invoice at dispatch stand', async () => {
    const orderId = await client.placeOrder(
      orderBody({ lines: [{ sku: 'MOUSE-ERGO', quantity: 1, unitPrice: 5900 }] }),
    );
    const shipped = await dispatched(orderId);
    // The carrier picked the parcel up (one scan), then went silent: the goods left, nothing to cancel.
    expect((await client.carrierEvent(shipped.shipments[0].trackingNumber, 'IN_TRANSIT')).status).toBe(202);
    const execution = await client.finished(orderId, DELIVERY_TIMEOUT_MS + 15_000);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('DeliveryNotConfirmed');
    const order = await client.order(orderId);
    expect(order.status).toBe('FAILED');
    expect(order.failure).toEqual({
      code: 'DeliveryNotConfirmed',
      message: `The carrier did not confirm delivery in time. Invoiced and kept: ${shipped.shipments[0].invoiceNumber}`,
    });
    expect(order.payment.status).toBe('CAPTURED');
    expect(order.timeline.map((e: { type: string }) => e.type)).not.toContain('OrderStockReleased');

    // The carrier's news arrives after all: accepted, but the closed order stays closed.
    const late = await client.carrierEvent(order.shipments[0].trackingNumber, 'DELIVERED');
    expect(late.status).toBe(200);
    expect(late.body?.note).toBe(`Order ${orderId} is already FAILED`);
    expect((await client.order(orderId)).status).toBe('FAILED');
  });

  it('refuses carrier events with a bad or stale signature (401) and resumes nothing', async () => {
    const orderId = await client.placeOrder(
      orderBody({ lines: [{ sku: 'WIDGET-RED', quantity: 1, unitPrice: 1250 }] }),
    );
    const shipped = await dispatched(orderId);
    const trackingNumber = shipped.shipments[0].trackingNumber as string;
    // The invoice task records the shipment's invoice, then the order's INVOICED: wait for the second.
    await client.waitForStatus(orderId, 'INVOICED');
    const forged = await client.carrierEvent(trackingNumber, 'DELIVERED', 'not-the-secret');
    expect(forged.status).toBe(401);
    expect(forged.body?.error.code).toBe('InvalidSignature');
    const stale = await client.carrierEvent(
      trackingNumber,
      'DELIVERED',
      undefined,
      Math.floor(Date.now() / 1000) - 301,
    );
    expect(stale.status).toBe(401);
    expect((await client.order(orderId)).status).toBe('INVOICED');
    // A retried DELIVERED (e.g. after a timeout on the carrier's side) is harmless.
    expect((await client.carrierEvent(trackingNumber, 'DELIVERED')).status).toBe(202);
    expect((await client.carrierEvent(trackingNumber, 'DELIVERED')).status).toBe(202);
    expect((await client.carrierEvent(trackingNumber, 'IN_TRANSIT')).body?.status).toBe('DELIVERED');
    expect((await client.finished(orderId)).status).toBe('SUCCEEDED');
    expect((await client.order(orderId)).status).toBe('COMPLETED');
    // A carrier retry after the order completed does not move its status back.
    expect((await client.carrierEvent(trackingNumber, 'DELIVERED')).status).toBe(202);
    const after = await client.order(orderId);
    expect(after.status).toBe('COMPLETED');
    expect(after.timeline.filter((e: { type: string }) => e.type === 'OrderDelivered')).toHaveLength(1);
  });

  it('issues gap-free invoice numbers', async () => {
    const orders = await Promise.all(
      [1, 2, 3].map(() =>
        client.placeOrder(orderBody({ lines: [{ sku: 'CABLE-USB-C', quantity: 1, unitPrice: 990 }] })),
      ),
    );
    await Promise.all(orders.map((id) => deliver(id)));
    await client.allFinished(orders);
    const numbers = (await client.sentEmails())
      .filter((e) => !String(e.subject).includes('finance copy'))
      .map((e) => /INV-\d{4}-(\d{6})/.exec(String(e.subject))?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    expect(numbers.length).toBeGreaterThanOrEqual(5);
    expect(numbers).toEqual(numbers.map((_, index) => index + 1));
  });

  describe('an order held in two warehouses', () => {
    /**
     * Two allocations (one per warehouse) by the allocation rule: no warehouse has both lines,
     * GADGET-PRO is only in Berlin, KEYBOARD-MX only in Rotterdam.
     */
    async function placeSplitOrder(token = 'tok_visa'): Promise<string> {
      return client.placeOrder(
        orderBody({
          payment: { method: 'card', token },
          lines: [
            { sku: 'GADGET-PRO', quantity: 1, unitPrice: 8900 },
            { sku: 'KEYBOARD-MX', quantity: 1, unitPrice: 11_900 },
          ],
        }),
      );
    }

    it('ships, captures and invoices each shipment and completes when both are delivered', async () => {
      const orderId = await placeSplitOrder();
      const shipped = await dispatched(orderId, 2);
      const [first, second] = shipped.shipments;
      expect(shipped.shipments.map((s: { warehouseId: string }) => s.warehouseId)).toEqual([
        'WH-BERLIN',
        'WH-ROTTERDAM',
      ]);
      expect(first.trackingNumber).not.toBe(second.trackingNumber);
      // Two captures adding up to the order's total: 8900 + 19 % and 11900 + 19 %.
      const totalOf = (shipmentId: string) =>
        shipped.invoices.find((i: { shipmentId: string }) => i.shipmentId === shipmentId)?.total;
      expect([totalOf(first.shipmentId), totalOf(second.shipmentId)]).toEqual([10_591, 14_161]);
      const numbers = shipped.invoices.map((i: { number: string }) => Number(i.number.slice(-6)));
      expect(Math.abs((numbers[1] ?? 0) - (numbers[0] ?? 0))).toBe(1);

      expect((await client.carrierEvent(first.trackingNumber, 'DELIVERED')).status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const halfway = await client.order(orderId);
      expect(halfway.status).not.toBe('COMPLETED');
      expect(halfway.timeline.map((e: { type: string }) => e.type)).not.toContain('OrderDelivered');
      expect((await client.carrierEvent(second.trackingNumber, 'DELIVERED')).status).toBe(202);

      expect((await client.finished(orderId)).status).toBe('SUCCEEDED');
      const order = await client.order(orderId);
      expect(order.status).toBe('COMPLETED');
      expect(order.payment.status).toBe('CAPTURED');
      expect(order.shipments.map((s: { status: string }) => s.status)).toEqual(['DELIVERED', 'DELIVERED']);
      // Shipments in allocation order, invoices in number order: the two numbered in either order.
      expect(order.shipments.map((s: { invoiceNumber: string }) => s.invoiceNumber).sort()).toEqual(
        order.invoices.map((i: { number: string }) => i.number),
      );
      expect(order.invoices.reduce((sum: number, i: { total: number }) => sum + i.total, 0)).toBe(order.totals.total);
    });

    it('fails on a lost second parcel: the first shipment stands, the failure says what was charged', async () => {
      const orderId = await placeSplitOrder();
      const shipped = await dispatched(orderId, 2);
      const [first, second] = shipped.shipments;
      expect((await client.carrierEvent(first.trackingNumber, 'DELIVERED')).status).toBe(202);
      expect((await client.carrierEvent(second.trackingNumber, 'LOST')).status).toBe(202);
      const execution = await client.finished(orderId);
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('ShipmentLost');
      const order = await client.order(orderId);
      expect(order.status).toBe('FAILED');
      expect(order.invoices).toHaveLength(2);
      expect(order.payment.status).toBe('CAPTURED');
      expect(order.failure.code).toBe('ShipmentLost');
      expect(order.failure.message).toBe(
        `Carrier reported ${second.trackingNumber} lost. Charged for lost shipment ${second.shipmentId} (invoice ${second.invoiceNumber}); left for operations to settle. Invoiced and kept: ${first.invoiceNumber}, ${second.invoiceNumber}`,
      );
    });
  });
});
