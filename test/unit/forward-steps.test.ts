import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SandboxCarrier, sandboxTrackingNumber } from '../../functions/adapters/carrier.ts';
import { captureKey, paymentKey, SandboxPaymentProvider } from '../../functions/adapters/payments.ts';

/**
 * Forward steps that find the order closed (or being closed by a reconciler) right after their
 * external effect undo it: the booking is cancelled, the authorization voided.
 */
const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);
mockClient(EventBridgeClient);

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  ORDERS_TABLE_NAME: 'Orders',
  PRODUCTS_TABLE_NAME: 'Products',
  STOCK_TABLE_NAME: 'Stock',
  EVENT_BUS_NAME: 'Bus',
  CARRIER_WEBHOOK_SECRET_ID: 'carrier-secret',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});

const context = { functionName: 'f', awsRequestId: 'r', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
type Task = (event: unknown, context: Context) => Promise<unknown>;

function order(orderId: string, fields: Record<string, unknown> = {}) {
  return {
    orderId,
    sk: 'ORDER',
    status: 'PAYMENT_AUTHORIZED',
    channel: 'web',
    customerId: 'CUST-1002',
    currency: 'EUR',
    requestedLines: [],
    totals: { subtotal: 100, discount: 0, tax: 0, total: 100, taxByRate: [{ rateBasisPoints: 0, net: 100, tax: 0 }] },
    shippingAddress: { name: 'n', line1: 'l', city: 'c', postalCode: 'p', country: 'DE' },
    payment: { method: 'card', token: 'tok_visa' },
    stages: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}

beforeEach(() => documents.reset());

describe('forward steps on an order closed under them', () => {
  it('CreateShipment cancels the booking it made when the order is being closed before it could record it', async () => {
    const orderId = 'ord-0000000000000000000000000s';
    const allocations = [
      { allocationId: 'A1', warehouseId: 'WH-BERLIN', lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }], at: 'x' },
    ];
    documents.on(QueryCommand).resolves({ Items: [order(orderId, { allocations })] });
    documents
      .on(TransactWriteCommand)
      .resolvesOnce({}) // the BOOKING record, while the order was open
      .rejectsOnce(
        new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
        }),
      ); // the confirmation, after a reconciler fenced the order
    documents.on(UpdateCommand).resolves({ Attributes: { status: 'CANCELLED' } });
    const createShipment = (await import('../../functions/create-shipment/handler.ts')).handler as unknown as Task;

    await expect(createShipment({ orderId, allocationId: 'A1' }, context)).rejects.toMatchObject({
      name: 'OrderClosed',
    });
    expect(new SandboxCarrier({ deliveryMs: 0 }).parcelState(sandboxTrackingNumber(`${orderId}-A1`))).toBe('CANCELLED');
    const recorded = documents.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(recorded).toEqual([
      expect.objectContaining({
        Key: { orderId, sk: `SHIPMENT#${orderId}-A1` },
        ExpressionAttributeValues: expect.objectContaining({ ':status': 'CANCELLED' }),
      }),
    ]);
  });

  it('AuthorizePayment voids the authorization it got when the order is being closed before it could record it', async () => {
    const orderId = 'ord-0000000000000000000000000a';
    const stored = order(orderId, { status: 'RESERVED' });
    documents.on(QueryCommand).resolves({ Items: [stored] });
    documents
      .on(UpdateCommand)
      .resolvesOnce({}) // the PENDING intent, while the order was open
      .rejects(
        new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
          Item: marshall({ ...stored, closing: '2026-01-01T00:00:01.000Z' }),
        }),
      );
    const authorizePayment = (await import('../../functions/authorize-payment/handler.ts')).handler as unknown as Task;

    await expect(authorizePayment({ orderId }, context)).rejects.toMatchObject({ name: 'OrderClosed' });
    // The key is voided at the provider: the authorization cannot be used, nor made again.
    await expect(
      new SandboxPaymentProvider().capture({
        authorizationKey: paymentKey(orderId, 'authorize'),
        captureKey: captureKey(orderId, `${orderId}-A1`),
        amount: 100,
      }),
    ).rejects.toMatchObject({ name: 'PaymentDeclined' });
  });
});
