import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signPayload } from '../../functions/core/signature.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';

const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  ORDERS_TABLE_NAME: 'Orders',
  PRODUCTS_TABLE_NAME: 'Products',
  STOCK_TABLE_NAME: 'Stock',
  CUSTOMERS_TABLE_NAME: 'Customers',
  IDEMPOTENCY_TABLE_NAME: 'Idempotency',
  EVENT_BUS_NAME: 'Bus',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:orders',
  CARRIER_WEBHOOK_SECRET_ID: 'carrier-secret',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});

const context = lambdaContext;
const httpEvent = checkoutHttpEvent;
type Route = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let placeOrder: Route;
let carrierWebhook: Route;
let awaitDelivery: (event: unknown, context: Context) => Promise<unknown>;

beforeAll(async () => {
  placeOrder = (await import('../../functions/place-order/handler.ts')).handler as unknown as Route;
  carrierWebhook = (await import('../../functions/carrier-webhook/handler.ts')).handler as unknown as Route;
  awaitDelivery = (await import('../../functions/await-delivery/handler.ts')).handler as never;
});

beforeEach(() => {
  documents.reset();
  sfn.reset();
  events.reset();
  secrets.reset();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: 'shh' });
  events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
});

const body = (result: APIGatewayProxyStructuredResultV2) => JSON.parse(String(result.body));

describe('POST /orders', () => {
  it('answers 400 naming the Idempotency-Key header when it is missing, and writes nothing', async () => {
    const result = await placeOrder(httpEvent({ body: '{}' }), context);
    expect(result.statusCode).toBe(400);
    expect(body(result).error.issues).toEqual([
      { path: 'idempotency-key', message: expect.stringContaining('required') },
    ]);
    expect(documents.calls()).toHaveLength(0);
  });

  it('answers 400 naming every invalid field of the order', async () => {
    const result = await placeOrder(
      httpEvent({
        headers: { 'idempotency-key': 'abcdefgh-1' },
        body: JSON.stringify({ customerId: 'C1', currency: 'EUR', lines: [] }),
      }),
      context,
    );
    expect(result.statusCode).toBe(400);
    const paths = body(result).error.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['lines', 'shippingAddress', 'payment']));
    expect(documents.calls()).toHaveLength(0);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const result = await placeOrder(
      httpEvent({ headers: { 'idempotency-key': 'abcdefgh-1' }, body: '{oops' }),
      context,
    );
    expect(result.statusCode).toBe(400);
    expect(body(result).error.code).toBe('InvalidJson');
  });
});

describe('POST /webhooks/carrier', () => {
  const payload = JSON.stringify({ trackingNumber: 'SBX1', status: 'DELIVERED', occurredAt: '2026-11-28T10:00:00Z' });
  const signed = (secret: string, timestamp = Math.floor(Date.now() / 1000)) =>
    httpEvent({
      body: payload,
      headers: { 'x-timestamp': String(timestamp), 'x-signature': signPayload(secret, timestamp, payload) },
    });

  it('refuses a wrong or stale signature with 401 and touches nothing', async () => {
    expect((await carrierWebhook(signed('wrong'), context)).statusCode).toBe(401);
    expect((await carrierWebhook(signed('shh', Math.floor(Date.now() / 1000) - 600), context)).statusCode).toBe(401);
    expect(documents.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('resumes the waiting workflow on DELIVERED', async () => {
    const shipment = { orderId: 'ord-1', sk: 'SHIPMENT#ord-1-1', shipmentId: 'ord-1-1', trackingNumber: 'SBX1' };
    // The tracking-number index finds the shipment; the order (read to see every shipment delivered) has one.
    documents
      .on(QueryCommand)
      .resolvesOnce({ Items: [shipment] })
      .resolves({
        Items: [
          { orderId: 'ord-1', sk: 'ORDER', stages: {} },
          { ...shipment, status: 'DELIVERED' },
        ],
      });
    documents.on(UpdateCommand).resolves({
      Attributes: {
        orderId: 'ord-1',
        shipmentId: 'ord-1-1',
        status: 'DELIVERED',
        taskToken: 'tok-1',
        customerId: 'C1',
        // The same update answers for the order's stage (the event's envelope is read from it).
        channel: 'web',
        currency: 'EUR',
        createdAt: '2026-11-28T09:00:00Z',
      },
    });
    sfn.on(SendTaskSuccessCommand).resolves({});
    const result = await carrierWebhook(signed('shh'), context);
    expect(result.statusCode).toBe(202);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: 'tok-1',
      output: JSON.stringify({ deliveredAt: '2026-11-28T10:00:00Z' }),
    });
    // The index's keys name the shipment and its write answers it as stored: nothing is read item by item.
    expect(documents.commandCalls(GetCommand)).toHaveLength(0);
    expect(documents.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { orderId: 'ord-1', sk: 'SHIPMENT#ord-1-1' },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('records OrderDelivered after a remainder cancellation: released allocations and cancelled shipments are not waited for', async () => {
    const shipment = { orderId: 'ord-1', sk: 'SHIPMENT#ord-1-A1', shipmentId: 'ord-1-A1', trackingNumber: 'SBX1' };
    const allocation = (allocationId: string) => ({
      allocationId,
      warehouseId: 'WH-BERLIN',
      lines: [{ sku: 'CABLE-USB-C', quantity: 1 }],
      at: '2026-11-28T09:00:00Z',
    });
    documents
      .on(QueryCommand)
      .resolvesOnce({ Items: [shipment] })
      .resolves({
        Items: [
          {
            orderId: 'ord-1',
            sk: 'ORDER',
            status: 'SHIPPED',
            stages: {},
            allocations: [allocation('A1'), allocation('A2'), allocation('A3')],
            cancellation: {
              requestedAt: '2026-11-28T09:30:00Z',
              kind: 'remainder',
              reason: 'r',
              by: { kind: 'user', id: 'u' },
            },
          },
          { ...shipment, allocationId: 'A1', status: 'DELIVERED' },
          {
            orderId: 'ord-1',
            sk: 'SHIPMENT#ord-1-A2',
            shipmentId: 'ord-1-A2',
            allocationId: 'A2',
            status: 'CANCELLED',
          },
        ],
      });
    documents.on(UpdateCommand).resolves({
      Attributes: {
        orderId: 'ord-1',
        shipmentId: 'ord-1-A1',
        status: 'DELIVERED',
        taskToken: 'tok-1',
        customerId: 'C1',
        // The same update answers for the order's stage (the event's envelope is read from it).
        channel: 'web',
        currency: 'EUR',
        createdAt: '2026-11-28T09:00:00Z',
      },
    });
    sfn.on(SendTaskSuccessCommand).resolves({});
    expect((await carrierWebhook(signed('shh'), context)).statusCode).toBe(202);
    const stages = documents
      .commandCalls(UpdateCommand)
      .filter((call) => call.args[0].input.Key?.sk === 'ORDER')
      .map((call) => JSON.stringify(call.args[0].input));
    expect(stages.some((input) => input.includes('OrderDelivered'))).toBe(true);
  });

  it('answers 404 for an unknown tracking number', async () => {
    documents.on(QueryCommand).resolves({ Items: [] });
    expect((await carrierWebhook(signed('shh'), context)).statusCode).toBe(404);
  });

  it('answers 404 when the index names a shipment that is not there, and resumes nothing', async () => {
    documents
      .on(QueryCommand)
      .resolves({ Items: [{ orderId: 'ord-1', sk: 'SHIPMENT#ord-1-1', trackingNumber: 'SBX1' }] });
    // The write's existence check refuses it, and without the item there is nothing to answer.
    documents
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const result = await carrierWebhook(signed('shh'), context);
    expect([result.statusCode, body(result).error.code]).toEqual([404, 'ShipmentNotFound']);
    expect(sfn.calls()).toHaveLength(0);
  });
});

describe('AwaitDelivery', () => {
  it('parks the token on the shipment and resumes at once if the carrier was faster', async () => {
    documents.on(UpdateCommand).resolves({ Attributes: { status: 'DELIVERED', taskToken: 'tok-2' } });
    sfn.on(SendTaskSuccessCommand).resolves({});
    await awaitDelivery(
      { orderId: 'ord-01jd0000000000000000000000', shipmentId: 's1', trackingNumber: 'T', taskToken: 'tok-2' },
      context,
    );
    expect(documents.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues).toEqual({
      ':token': 'tok-2',
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('rejects malformed input by name, so the workflow fails loudly', async () => {
    await expect(awaitDelivery({ orderId: 'nope' }, context)).rejects.toMatchObject({ name: 'InvalidTaskInput' });
    expect(documents.calls()).toHaveLength(0);
  });
});
