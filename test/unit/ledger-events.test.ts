import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventPublisher } from '../../functions/adapters/event-publisher.ts';
import { parseEventDetail } from '../../functions/core/event-catalog.ts';
import { ledgerEvents } from '../../functions/lib/ledger-events.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';
import { storedCardInvoice } from '../support/tables.ts';

/**
 * OrderCreditNoteIssued and OrderPaymentReceived: published with the catalog's shape (the real
 * publisher checks every detail against it) and, on a retry, as the same fact (same id and time).
 */
const ORDER_ID = 'ord-01jd0000000000000000000000';
const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);
const bus = mockClient(EventBridgeClient);
const ses = mockClient(SESv2Client);

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  ORDERS_TABLE_NAME: 'Orders',
  INVOICES_TABLE_NAME: 'Invoices',
  CUSTOMERS_TABLE_NAME: 'Customers',
  EVENT_BUS_NAME: 'Bus',
  SENDER_EMAIL: 'shop@example.com',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});

const orderItem = {
  orderId: ORDER_ID,
  sk: 'ORDER',
  customerId: 'CUST-1001',
  status: 'COMPLETED',
  channel: 'web',
  currency: 'EUR',
  totals: { total: 2380 },
  promisedDeliveryDate: '2026-03-04',
  createdAt: '2026-03-01T09:00:00.000Z',
};

beforeEach(() => {
  documents.reset();
  bus.reset();
  ses.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
  ses.on(SendEmailCommand).resolves({ MessageId: 'm1' });
  documents.on(QueryCommand, { TableName: 'Orders' }).resolves({ Items: [orderItem] });
});

const published = () =>
  bus.commandCalls(PutEventsCommand).map((call) => {
    const entry = call.args[0].input.Entries?.[0];
    return { type: String(entry?.DetailType), detail: JSON.parse(String(entry?.Detail)) as Record<string, unknown> };
  });

describe('ledger events', () => {
  it('a credit note is published with the catalog shape, the same fact on every call', async () => {
    const events = ledgerEvents({
      orders: { get: async () => ({ ...orderItem, shipments: [], invoices: [] }) as never },
      events: new EventPublisher('Bus'),
    });
    const note = {
      orderId: ORDER_ID,
      creditNoteNumber: 'CN-2026-000007',
      invoiceNumber: 'INV-2026-000003',
      issuedAt: '2026-03-05T10:00:00.000Z',
      totals: { net: 1000, tax: 190, total: 1190 } as never,
    };
    await events.creditNoteIssued(note);
    await events.creditNoteIssued(note); // a retry, or the sweep
    const [first, second] = published();
    expect(first?.type).toBe('OrderCreditNoteIssued');
    expect(() => parseEventDetail('OrderCreditNoteIssued', first?.detail)).not.toThrow();
    expect(first?.detail).toMatchObject({
      version: 1,
      eventId: `${ORDER_ID}:OrderCreditNoteIssued:CN-2026-000007`,
      orderId: ORDER_ID,
      occurredAt: '2026-03-05T10:00:00.000Z',
      customerId: 'CUST-1001',
      placedAt: orderItem.createdAt,
      currency: 'EUR',
      creditNoteNumber: 'CN-2026-000007',
      invoiceNumber: 'INV-2026-000003',
      amount: 1190,
    });
    expect(second).toEqual(first);
  });

  it('a detail missing what it is about is never sent', async () => {
    const events = ledgerEvents({
      orders: { get: async () => ({ ...orderItem, shipments: [], invoices: [] }) as never },
      events: new EventPublisher('Bus'),
    });
    await expect(
      events.paymentReceived(
        { orderId: ORDER_ID, invoiceNumber: 'INV-2026-000003' },
        { amount: -5, reference: 'BANK-1', receivedAt: '2026-03-05T10:00:00.000Z' },
      ),
    ).rejects.toThrow(/amount/);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});

describe('POST /invoices/{number}/payments publishes OrderPaymentReceived', () => {
  type Http = (event: unknown, context: Context) => Promise<{ statusCode: number; body: string }>;
  let recordPayment: Http;
  beforeAll(async () => {
    recordPayment = (await import('../../functions/record-payment/handler.ts')).handler as never;
  });
  const invoice = {
    ...storedCardInvoice('INV-2026-000003', ORDER_ID),
    paymentMethod: 'on_account',
    status: 'open',
    amountPaid: 0,
  };
  const post = (body: unknown) =>
    recordPayment(
      checkoutHttpEvent({
        routeKey: 'POST /invoices/{number}/payments',
        rawPath: '/invoices/INV-2026-000003/payments',
        pathParameters: { number: 'INV-2026-000003' },
        body: JSON.stringify(body),
        requestContext: {
          http: { method: 'POST' },
          authorizer: { jwt: { claims: { client_id: 'finance', sub: 'finance' }, scopes: ['sales/payments.write'] } },
        } as never,
      }),
      lambdaContext,
    );

  it('on the first call and on a replay, the same event (the recorded time, not the replay’s)', async () => {
    const payment = { amount: 500, reference: 'BANK-7', receivedAt: '2026-03-06T08:00:00.000Z' };
    documents.on(GetCommand, { Key: { pk: 'INVOICE#INV-2026-000003' } }).resolves({ Item: invoice });
    documents
      .on(GetCommand, { Key: { pk: 'PAYMENT#INV-2026-000003#BANK-7' } })
      .resolvesOnce({})
      .resolves({ Item: { pk: 'PAYMENT#INV-2026-000003#BANK-7', ...payment, paidInFull: false } });
    documents.on(TransactWriteCommand).resolves({});
    documents.on(UpdateCommand).resolves({});

    expect((await post(payment)).statusCode).toBe(201);
    // The client retries (its first answer was lost) with the time it sends now.
    const replay = await post({ ...payment, receivedAt: '2026-03-06T09:30:00.000Z' });
    expect(replay.statusCode).toBe(200);

    const [first, second] = published();
    expect(first?.type).toBe('OrderPaymentReceived');
    expect(() => parseEventDetail('OrderPaymentReceived', first?.detail)).not.toThrow();
    expect(first?.detail).toMatchObject({
      eventId: `${ORDER_ID}:OrderPaymentReceived:INV-2026-000003:BANK-7`,
      orderId: ORDER_ID,
      occurredAt: '2026-03-06T08:00:00.000Z',
      invoiceNumber: 'INV-2026-000003',
      reference: 'BANK-7',
      amount: 500,
    });
    expect(second).toEqual(first);
  });

  it('a publish that failed after the payment was recorded is answered 5xx and goes with the retry', async () => {
    const payment = { amount: 500, reference: 'BANK-8', receivedAt: '2026-03-06T08:00:00.000Z' };
    documents.on(GetCommand, { Key: { pk: 'INVOICE#INV-2026-000003' } }).resolves({ Item: invoice });
    documents
      .on(GetCommand, { Key: { pk: 'PAYMENT#INV-2026-000003#BANK-8' } })
      .resolvesOnce({})
      .resolves({ Item: { pk: 'PAYMENT#INV-2026-000003#BANK-8', ...payment, paidInFull: false } });
    documents.on(TransactWriteCommand).resolves({});
    bus
      .on(PutEventsCommand)
      .rejectsOnce(new Error('EventBridge unavailable'))
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e2' }] });

    expect((await post(payment)).statusCode).toBeGreaterThanOrEqual(500);
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect((await post(payment)).statusCode).toBe(200);
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(1); // recorded once
    const events = bus
      .commandCalls(PutEventsCommand)
      .map((c) => JSON.parse(String(c.args[0].input.Entries?.[0]?.Detail)));
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual(events[0]);
    expect(events[1]?.eventId).toBe(`${ORDER_ID}:OrderPaymentReceived:INV-2026-000003:BANK-8`);
  });
  const sentEmails = () =>
    ses.commandCalls(SendEmailCommand).map((call) => {
      const content = call.args[0].input.Content?.Simple;
      return { subject: String(content?.Subject?.Data), text: String(content?.Body?.Text?.Data) };
    });
  const paidInFull = { amount: 2380, reference: 'BANK-9', receivedAt: '2026-03-06T08:00:00.000Z' };

  it('the bus down does not hold back the receipt: it is sent, the request fails (5xx) and the payment stays queued', async () => {
    documents.on(GetCommand, { Key: { pk: 'INVOICE#INV-2026-000003' } }).resolves({ Item: invoice });
    documents.on(GetCommand, { Key: { pk: 'PAYMENT#INV-2026-000003#BANK-9' } }).resolves({});
    documents.on(TransactWriteCommand).resolves({});
    documents.on(UpdateCommand).resolves({});
    bus.on(PutEventsCommand).rejects(new Error('EventBridge unavailable'));

    expect((await post(paidInFull)).statusCode).toBeGreaterThanOrEqual(500);
    expect(sentEmails().map((e) => e.subject)).toEqual(['Payment received: invoice INV-2026-000003']);
    // Recorded in the sweep's queue and, its event not published, left there.
    const put = documents.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[0]?.Put?.Item;
    expect(put).toMatchObject({ pk: 'PAYMENT#INV-2026-000003#BANK-9', orderId: ORDER_ID });
    expect(String(put?.pendingYear)).toMatch(/^PAYMENT#UNPUBLISHED#\d{4}$/);
    const updates = documents.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(updates.filter((u) => String(u.UpdateExpression).includes('REMOVE pendingYear'))).toEqual([]);
  });

  it('a published payment leaves the queue; a receipt sent on a replay says the recorded date, not the replay’s', async () => {
    documents.on(GetCommand, { Key: { pk: 'INVOICE#INV-2026-000003' } }).resolves({ Item: invoice });
    documents
      .on(GetCommand, { Key: { pk: 'PAYMENT#INV-2026-000003#BANK-9' } })
      .resolvesOnce({})
      .resolves({
        Item: { pk: 'PAYMENT#INV-2026-000003#BANK-9', ...paidInFull, paidInFull: true, publishedAt: 'x' },
      });
    documents.on(TransactWriteCommand).resolves({});
    documents.on(UpdateCommand).resolves({});
    ses.on(SendEmailCommand).rejectsOnce(new Error('SES unavailable')).resolves({ MessageId: 'm2' });

    expect((await post(paidInFull)).statusCode).toBeGreaterThanOrEqual(500);
    const marked = documents
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .filter((u) => String(u.UpdateExpression).includes('REMOVE pendingYear'));
    expect(marked.map((u) => u.Key)).toEqual([{ pk: 'PAYMENT#INV-2026-000003#BANK-9' }]);

    const replay = await post({ ...paidInFull, receivedAt: '2026-03-07T09:30:00.000Z' });
    expect(replay.statusCode).toBe(200);
    expect(JSON.parse(replay.body).payment).toMatchObject({ receivedAt: paidInFull.receivedAt, replayed: true });
    const [, receipt] = sentEmails();
    expect(receipt?.text).toContain('last payment BANK-9 on 2026-03-06');
    expect(published().map((e) => e.detail.occurredAt)).toEqual([paidInFull.receivedAt, paidInFull.receivedAt]);
  });
});
