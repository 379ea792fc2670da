import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkoutHttpEvent } from '../support/lambda-events.ts';

/**
 * The stock routes against mocked AWS clients: once the stock change is written, a failure to serve
 * the waiting orders (their fills keep meeting another serve's transaction) is left to the sweep and
 * the route answers the change it made, never a 5xx its caller would answer by sending it again.
 */
const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
mockClient(EventBridgeClient);

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  ORDERS_TABLE_NAME: 'Orders',
  PRODUCTS_TABLE_NAME: 'Products',
  STOCK_TABLE_NAME: 'Stock',
  EVENT_BUS_NAME: 'Bus',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});

type Route = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let setStock: Route;
let adjustStock: Route;
const context = { functionName: 'test', awsRequestId: 'r', getRemainingTimeInMillis: () => 25_000 } as never;

beforeAll(async () => {
  setStock = (await import('../../functions/set-stock/handler.ts')).handler as unknown as Route;
  adjustStock = (await import('../../functions/adjust-stock/handler.ts')).handler as unknown as Route;
});

const erp = (body: unknown) =>
  checkoutHttpEvent({
    pathParameters: { sku: 'KEYBOARD-MX' },
    body: JSON.stringify(body),
    requestContext: {
      authorizer: {
        jwt: { claims: { client_id: 'erp', sub: 'erp' }, scopes: ['sales/stock.write', 'sales/stock.adjust'] },
      },
    } as never,
  });

const conflict = () =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
  });

beforeEach(() => {
  documents.reset();
  sfn.reset();
  documents.on(BatchGetCommand).resolves({ Responses: { Products: [{ sku: 'KEYBOARD-MX', name: 'Keyboard' }] } });
  // One order waits for 2; 5 are available in Berlin after the change.
  documents.on(QueryCommand, { IndexName: 'backorders' }).resolves({ Items: [{ orderId: 'o-1' }] });
  documents.on(QueryCommand, { TableName: 'Stock' }).resolves({
    Items: [{ sku: 'KEYBOARD-MX', warehouseId: 'WH-BERLIN', onHand: 5, reserved: 0, available: 5 }],
  });
  documents.on(QueryCommand, { TableName: 'Orders', KeyConditionExpression: 'orderId = :id' }).resolves({
    Items: [
      {
        orderId: 'o-1',
        sk: 'ORDER',
        status: 'RESERVED',
        allocations: [],
        backorder: { lines: [{ sku: 'KEYBOARD-MX', quantity: 2 }], since: 'x', expiresAt: '2099-01-01T00:00:00Z' },
      },
    ],
  });
});

const fills = () =>
  documents
    .commandCalls(TransactWriteCommand)
    .filter((call) => call.args[0].input.TransactItems?.some((item) => item.Update?.Key?.sk === 'RESERVATION')).length;

describe('stock routes when the waiting orders cannot be served', () => {
  it('POST …/stock/adjustments answers 201 with the receipt it recorded', async () => {
    // The receipt's transaction goes through; every fill meets another serve's transaction.
    documents.on(TransactWriteCommand).resolvesOnce({}).rejects(conflict());
    const result = await adjustStock(erp({ delta: 5, reason: 'DN-1', warehouseId: 'WH-BERLIN' }), context);
    expect(result.statusCode).toBe(201);
    expect(JSON.parse(String(result.body))).toMatchObject({
      adjustment: { sku: 'KEYBOARD-MX', delta: 5, reason: 'DN-1' },
      stock: { warehouseId: 'WH-BERLIN', onHand: 5, available: 5 },
    });
    expect(fills()).toBe(3);
  });

  it('PUT …/stock answers 200 with the level it set', async () => {
    documents.on(UpdateCommand, { TableName: 'Stock' }).resolves({
      Attributes: { sku: 'KEYBOARD-MX', warehouseId: 'WH-BERLIN', onHand: 5, reserved: 0, available: 5 },
    });
    documents.on(TransactWriteCommand).rejects(conflict());
    const result = await setStock(erp({ onHand: 5, warehouseId: 'WH-BERLIN' }), context);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(String(result.body))).toMatchObject({ warehouseId: 'WH-BERLIN', onHand: 5, available: 5 });
    expect(fills()).toBe(3);
  });
});
