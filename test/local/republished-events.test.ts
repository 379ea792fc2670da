import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventPublisher } from '../../functions/adapters/event-publisher.ts';
import { OrdersRepository } from '../../functions/adapters/orders-repository.ts';
import { cycleTimeSeconds } from '../../functions/core/order.ts';
import { signPayload } from '../../functions/core/signature.ts';
import { stageRecorder } from '../../functions/lib/stages.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';
import { type LocalTables, startTables } from '../support/tables.ts';

/**
 * Every copy of a fact's event is the same event: the stage recorder and the carrier webhook against
 * DynamoDB Local (the bus is mocked to see what is published). A retry later, a second shipment, a
 * re-sent webhook: the same eventId always comes with the same detail, byte for byte.
 */
const bus = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);
mockClient(SFNClient);
let tables: LocalTables;
let orders: OrdersRepository;
type Route = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let carrierWebhook: Route;

beforeAll(async () => {
  tables = await startTables();
  Object.assign(process.env, {
    ORDERS_TABLE_NAME: tables.names.orders,
    EVENT_BUS_NAME: 'Bus',
    CARRIER_WEBHOOK_SECRET_ID: 'carrier-secret',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  orders = new OrdersRepository(tables.names.orders);
  carrierWebhook = (await import('../../functions/carrier-webhook/handler.ts')).handler as unknown as Route;
}, 120_000);

afterAll(async () => {
  await tables?.stop();
});

beforeEach(() => {
  bus.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  secrets.on(GetSecretValueCommand).resolves({ SecretString: 'shh' });
});

/** Every published event: its detail-type and its detail as sent (a string). */
const published = () =>
  bus.commandCalls(PutEventsCommand).map((call) => {
    const entry = call.args[0].input.Entries?.[0];
    return { type: String(entry?.DetailType), detail: String(entry?.Detail) };
  });
const byEventId = () => {
  const copies = new Map<string, Set<string>>();
  for (const { detail } of published()) {
    const id = JSON.parse(detail).eventId as string;
    copies.set(id, (copies.get(id) ?? new Set()).add(detail));
  }
  return copies;
};

/** The DynamoDB commands `run` sends, by name. */
async function commandsSentBy(run: () => Promise<unknown>): Promise<string[]> {
  const sends = vi.spyOn(DynamoDBDocumentClient.prototype, 'send');
  try {
    await run();
    return sends.mock.calls.map(([command]) => command.constructor.name);
  } finally {
    sends.mockRestore();
  }
}

let n = 0;
async function seedOrder(shipments: string[]) {
  n += 1;
  const orderId = `ord-${String(n).padStart(26, '0')}`;
  await tables.db.send(
    new PutCommand({
      TableName: tables.names.orders,
      Item: {
        orderId,
        sk: 'ORDER',
        customerId: 'CUST-1001',
        status: 'PAYMENT_AUTHORIZED',
        channel: 'web',
        currency: 'EUR',
        totals: { total: 2000 },
        promisedDeliveryDate: '2026-12-04',
        allocations: shipments.map((allocationId) => ({
          allocationId,
          warehouseId: `WH-${allocationId}`,
          lines: [{ sku: 'CABLE-USB-C', quantity: 1 }],
          at: '2026-11-29T10:00:00.000Z',
        })),
        stages: { OrderReceived: '2026-11-29T10:00:00.000Z' },
        createdAt: '2026-11-29T10:00:00.000Z',
        updatedAt: '2026-11-29T10:00:00.000Z',
      },
    }),
  );
  for (const allocationId of shipments)
    await tables.db.send(
      new PutCommand({
        TableName: tables.names.orders,
        Item: {
          orderId,
          sk: `SHIPMENT#${orderId}-${allocationId}`,
          shipmentId: `${orderId}-${allocationId}`,
          carrier: 'sandbox',
          status: 'IN_TRANSIT',
          allocationId,
          warehouseId: `WH-${allocationId}`,
          lines: [{ sku: 'CABLE-USB-C', quantity: 1 }],
          trackingNumber: `SBX-${orderId}-${allocationId}`,
        },
      }),
    );
  return orderId;
}

describe('republished events', () => {
  it('a retry of each stage, minutes later, publishes a byte-identical detail; each shipment its own time', async () => {
    let now = Date.parse('2026-11-29T11:00:00.000Z');
    const clock = () => new Date(now);
    const record = stageRecorder(orders, new EventPublisher('Bus'), clock);
    const orderId = await seedOrder(['A1', 'A2']);
    const [a, b] = [`${orderId}-A1`, `${orderId}-A2`];
    const stages = async (shipmentId: string) => {
      await record(
        orderId,
        'OrderShipped',
        { status: 'SHIPPED' },
        { carrier: 'sandbox', shipmentId, warehouseId: 'W' },
      );
      await record(orderId, 'OrderPaymentCaptured', { status: 'PAYMENT_CAPTURED' }, { shipmentId, amount: 1000 });
      await record(
        orderId,
        'OrderInvoiced',
        { status: 'INVOICED' },
        { shipmentId, invoiceNumber: `INV-${shipmentId}` },
      );
    };
    await stages(a);
    now += 7 * 60_000;
    await stages(b);
    now += 60_000;
    const complete = () =>
      record(orderId, 'OrderCompleted', { status: 'COMPLETED' }, (stored, completedAt) => ({
        gross: 2000,
        allLinesDelivered: true,
        cycleTimeSeconds: cycleTimeSeconds(stored, new Date(completedAt)),
      }));
    await complete();
    const first = published().map((p) => p.detail);
    // Every stage again, later: the task retried after its publish failed, in any order.
    now += 3_600_000;
    await stages(b);
    await stages(a);
    await complete();

    const copies = byEventId();
    expect(copies.size).toBe(7);
    for (const [id, details] of copies) expect([...details], id).toHaveLength(1);
    const detail = (id: string) => JSON.parse([...(copies.get(id) ?? [])][0] as string);
    expect(detail(`${orderId}:OrderShipped:${a}`).occurredAt).toBe('2026-11-29T11:00:00.000Z');
    expect(detail(`${orderId}:OrderShipped:${b}`).occurredAt).toBe('2026-11-29T11:07:00.000Z');
    expect(detail(`${orderId}:OrderInvoiced:${b}`)).toMatchObject({
      occurredAt: '2026-11-29T11:07:00.000Z',
      status: 'INVOICED',
    });
    expect(detail(`${orderId}:OrderCompleted`)).toMatchObject({
      occurredAt: '2026-11-29T11:08:00.000Z',
      cycleTimeSeconds: 68 * 60,
    });
    expect(
      published()
        .slice(first.length)
        .map((p) => p.detail)
        .sort(),
    ).toEqual([...first].sort());
  });

  it('OrderInvoiced: the time the shipment\u2019s invoice record kept, with no write of its own; every copy the same', async () => {
    let now = Date.parse('2026-11-29T12:00:00.000Z');
    const clock = () => new Date(now);
    const record = stageRecorder(orders, new EventPublisher('Bus'), clock);
    const orderId = await seedOrder(['A1']);
    const shipmentId = `${orderId}-A1`;
    const invoice = { number: 'INV-2026-000901', total: 1190, pdfKey: 'invoices/2026/INV-2026-000901.pdf' };
    // As IssueInvoice: the invoice recorded on the shipment (keeping its time), then the stage with that time.
    const invoiced = async () => {
      const at = await orders.recordShipmentInvoice(orderId, shipmentId, invoice, clock());
      return commandsSentBy(() =>
        record(orderId, 'OrderInvoiced', { status: 'INVOICED' }, { shipmentId, invoiceNumber: invoice.number }, at),
      );
    };
    expect(await invoiced()).toEqual(['UpdateCommand']); // the order's stage only
    now += 3_600_000; // the task again, an hour later (its publish had failed)
    expect(await invoiced()).toEqual(['UpdateCommand']);
    const copies = published().filter((p) => p.type === 'OrderInvoiced');
    expect(copies).toHaveLength(2);
    expect(copies[1]?.detail).toBe(copies[0]?.detail);
    expect(JSON.parse(String(copies[0]?.detail)).occurredAt).toBe('2026-11-29T12:00:00.000Z');
    const shipment = await orders.getShipment(orderId, shipmentId);
    expect([shipment?.invoicedAt, shipment?.invoiceNumber]).toEqual(['2026-11-29T12:00:00.000Z', invoice.number]);
  });

  it('OrderPaymentCaptured: the time written with the capture, with no write of its own; a retry reads it back', async () => {
    let now = Date.parse('2026-11-29T13:00:00.000Z');
    const clock = () => new Date(now);
    const record = stageRecorder(orders, new EventPublisher('Bus'), clock);
    const orderId = await seedOrder(['A1']);
    const shipmentId = `${orderId}-A1`;
    await tables.db.send(
      new UpdateCommand({
        TableName: tables.names.orders,
        Key: { orderId, sk: 'ORDER' },
        UpdateExpression: 'SET paymentRecord = :p',
        ExpressionAttributeValues: { ':p': { method: 'card', status: 'AUTHORIZED', amount: 2000 } },
      }),
    );
    // As CapturePayment: the capture recorded with its time, then the stage with that time.
    const captured = async () => {
      const at = await orders.recordCapture(orderId, shipmentId, 'cap-1', 1190, clock());
      return commandsSentBy(() =>
        record(orderId, 'OrderPaymentCaptured', { status: 'PAYMENT_CAPTURED' }, { shipmentId, amount: 1190 }, at),
      );
    };
    expect(await captured()).toEqual(['UpdateCommand']); // the order's stage only
    now += 3_600_000; // the task again: the capture is recorded already, its time is read from the shipment
    expect(await captured()).toEqual(['UpdateCommand', 'UpdateCommand']);
    const copies = published().filter((p) => p.type === 'OrderPaymentCaptured');
    expect(copies).toHaveLength(2);
    expect(copies[1]?.detail).toBe(copies[0]?.detail);
    expect(JSON.parse(String(copies[0]?.detail)).occurredAt).toBe('2026-11-29T13:00:00.000Z');
    const shipment = await orders.getShipment(orderId, shipmentId);
    expect([shipment?.capturedAt, shipment?.captureId]).toEqual(['2026-11-29T13:00:00.000Z', 'cap-1']);
  });

  it('OrderDelivered: delivered A, then B, then A re-sent: every copy the same, delivered at B\u2019s time', async () => {
    const orderId = await seedOrder(['A1', 'A2']);
    const webhook = async (allocationId: string, occurredAt: string) => {
      const payload = JSON.stringify({
        trackingNumber: `SBX-${orderId}-${allocationId}`,
        status: 'DELIVERED',
        occurredAt,
      });
      const timestamp = Math.floor(Date.now() / 1000);
      const request = checkoutHttpEvent({
        rawPath: '/webhooks/carrier',
        body: payload,
        headers: { 'x-timestamp': String(timestamp), 'x-signature': signPayload('shh', timestamp, payload) },
      });
      const result = await carrierWebhook(request, lambdaContext as unknown as Context);
      expect(result.statusCode).toBe(202);
    };
    await webhook('A1', '2026-11-30T09:00:00.000Z');
    expect(published()).toHaveLength(0);
    await webhook('A2', '2026-11-30T15:00:00.000Z');
    // The carrier sends A's report again, with a later time of its own.
    await webhook('A1', '2026-11-30T18:00:00.000Z');

    const delivered = published().filter((p) => p.type === 'OrderDelivered');
    expect(delivered).toHaveLength(2);
    expect(new Set(delivered.map((p) => p.detail)).size).toBe(1);
    expect(JSON.parse(delivered[0]?.detail as string)).toMatchObject({
      eventId: `${orderId}:OrderDelivered`,
      deliveredAt: '2026-11-30T15:00:00.000Z',
      status: 'DELIVERED',
    });
    expect((await orders.get(orderId)).shipments.map((s) => s.deliveredAt)).toEqual([
      '2026-11-30T09:00:00.000Z',
      '2026-11-30T15:00:00.000Z',
    ]);
  });
});
