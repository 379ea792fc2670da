import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newOrder } from '../../functions/core/order.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';
import { orderBody } from '../support/runtime.ts';
import { type LocalTables, startTables, storedCardInvoice } from '../support/tables.ts';

/**
 * The handlers that e-mail once (claim, send, mark) on DynamoDB Local: a send that fails lets go of its
 * claim, so the retry a moment later (well within the claim's 2 minutes) sends the e-mail, once. Only
 * SES (failing once), the link secret and the bus are stand-ins.
 */
const ses = mockClient(SESv2Client);
const bus = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);
let t: LocalTables;
type Route = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let recordPayment: Route;
let requestApproval: (event: unknown, context: Context) => Promise<unknown>;

beforeAll(async () => {
  t = await startTables();
  Object.assign(process.env, {
    INVOICES_TABLE_NAME: t.names.invoices,
    CUSTOMERS_TABLE_NAME: t.names.customers,
    ORDERS_TABLE_NAME: t.names.orders,
    APPROVALS_TABLE_NAME: t.names.approvals,
    SENDER_EMAIL: 'orders@example.com',
    APPROVERS_EMAIL: 'approvers@example.com',
    PUBLIC_API_URL: 'https://api.example.com',
    APPROVAL_LINK_SECRET_ID: 'approval-link-secret',
    EVENT_BUS_NAME: 'Bus',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  recordPayment = (await import('../../functions/record-payment/handler.ts')).handler as unknown as Route;
  requestApproval = (await import('../../functions/request-approval/handler.ts')).handler as never;
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

beforeEach(() => {
  ses.reset();
  secrets.reset();
  bus.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  secrets.on(GetSecretValueCommand).resolves({ SecretString: 'link-secret' });
  // SES is throttled once, then sends.
  ses
    .on(SendEmailCommand)
    .rejectsOnce(Object.assign(new Error('Maximum sending rate exceeded'), { name: 'TooManyRequestsException' }))
    .resolves({ MessageId: 'm-1' });
});

/** The e-mails SES was asked to send, by recipient and subject: the failed attempt first. */
const sendAttempts = () =>
  ses.commandCalls(SendEmailCommand).map((call) => ({
    to: call.args[0].input.Destination?.ToAddresses,
    subject: call.args[0].input.Content?.Simple?.Subject?.Data,
  }));

describe('an e-mail whose send failed is sent by the retry, once', () => {
  it('payment receipt: SES throttled: the request answers 503 EmailSendDeferred, its replay a moment later sends the receipt; later replays do not', async () => {
    const number = 'INV-2026-000301';
    const orderId = `ord-${'r'.repeat(26)}`;
    const { OrdersRepository } = await import('../../functions/adapters/orders-repository.ts');
    const order = newOrder({ orderId, request: orderBody() as never, channel: 'web', now: new Date() });
    expect(await new OrdersRepository(t.names.orders).create({ ...order, status: 'COMPLETED' } as never)).toBe(true);
    await t.db.send(
      new PutCommand({
        TableName: t.names.invoices,
        Item: { ...storedCardInvoice(number, orderId), paymentMethod: 'on_account', status: 'open', amountPaid: 0 },
      }),
    );
    await t.db.send(
      new PutCommand({
        TableName: t.names.customers,
        Item: { customerId: 'CUST-1001', openBalance: 2380, creditUsed: 2380 },
      }),
    );
    const pay = () =>
      recordPayment(
        checkoutHttpEvent({
          routeKey: 'POST /invoices/{number}/payments',
          pathParameters: { number },
          body: JSON.stringify({ amount: 2380, reference: 'BANK-R1', receivedAt: '2026-03-05T10:00:00.000Z' }),
        }),
        lambdaContext,
      );

    const deferred = await pay(); // recorded; the receipt could not go out yet: retry the same request
    expect(deferred.statusCode).toBe(503);
    expect(JSON.parse(String(deferred.body)).error.code).toBe('EmailSendDeferred');
    expect((await pay()).statusCode).toBe(200); // the replay, well within the claim's 2 minutes
    expect((await pay()).statusCode).toBe(200);

    const receipt = { to: ['jane@example.com'], subject: expect.stringContaining(number) };
    expect(sendAttempts()).toEqual([receipt, receipt]); // the failed one, then the one that went out
    const { Item } = await t.db.send(
      new GetCommand({ TableName: t.names.invoices, Key: { pk: `INVOICE#${number}` }, ConsistentRead: true }),
    );
    expect(Item?.receiptSentAt).toBeDefined();
    expect(Item?.receiptSentAtClaim).toBeUndefined();
    // The payment was published by every call, as the same fact.
    const published = bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.[0]);
    expect(published).toHaveLength(3);
    expect(new Set(published.map((entry) => entry?.Detail)).size).toBe(1);
    expect(JSON.parse(String(published[0]?.Detail)).eventId).toBe(`${orderId}:OrderPaymentReceived:${number}:BANK-R1`);
  });

  it("approvers' e-mail: the failed task throws, the state machine's retry a moment later sends it; later retries do not", async () => {
    const orderId = `ord-${'a'.repeat(26)}`;
    const { OrdersRepository } = await import('../../functions/adapters/orders-repository.ts');
    const orders = new OrdersRepository(t.names.orders);
    const { lines, totals } = storedCardInvoice('INV-2026-000302', 'ord-A');
    const order = newOrder({ orderId, request: orderBody() as never, channel: 'web', now: new Date() });
    expect(await orders.create({ ...order, status: 'VALIDATED', lines, totals } as never)).toBe(true);
    const task = (attempt: number) =>
      requestApproval(
        { orderId, taskToken: `token-${attempt}`, reasons: ['high_value'], timeoutSeconds: 3600 },
        lambdaContext,
      );

    // SES throttled: EmailSendDeferred, which the state machine retries for minutes.
    await expect(task(1)).rejects.toMatchObject({ name: 'EmailSendDeferred' });
    expect(await task(2)).toMatchObject({ waiting: true });
    expect(await task(3)).toMatchObject({ waiting: true });

    const approval = { to: ['approvers@example.com'], subject: expect.stringContaining(orderId) };
    expect(sendAttempts()).toEqual([approval, approval]);
    const stored = await orders.get(orderId);
    const { Item } = await t.db.send(
      new GetCommand({
        TableName: t.names.approvals,
        Key: { approvalId: stored.approval?.approvalId },
        ConsistentRead: true,
      }),
    );
    expect(Item).toMatchObject({ status: 'PENDING', taskToken: 'token-3' });
    expect(Item?.emailedAt).toBeDefined();
  });
});
