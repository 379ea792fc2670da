import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { address, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * Input limits, the finance copy and credit at invoicing, on the real runtime: the HTTP API's
 * payload v2, the real ASL, DynamoDB Local and the local SES store.
 */
let runtime: LocalRuntime;
let client: TestClient;
let db: DynamoDBDocumentClient;
const table = (part: string) => runtime.deployment.tables.find((t) => t.TableName?.includes(part))?.TableName as string;

beforeAll(async () => {
  // IssueInvoice's retries compressed: a failure after invoicing is reached in a second.
  runtime = await startTestRuntime({ carrierDeliveryMs: 200, retryIntervalOverrides: { IssueInvoice: 50 } });
  client = new TestClient(runtime);
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: runtime.urls.dynamodb,
      credentials: runtime.credentials,
    }),
  );
});

afterAll(async () => {
  await runtime?.stop();
});

const issuePaths = (response: { body?: Record<string, any> }) =>
  (response.body?.error?.issues ?? []).map((issue: { path: string }) => issue.path);

describe('input limits', () => {
  it('answers 413 for a body above 256 KB, checked by the function', async () => {
    const body = JSON.stringify({ ...orderBody(), padding: 'x'.repeat(256 * 1024) });
    const response = await client.request('POST', '/orders', body, { 'idempotency-key': 'too-large-1' });
    expect(response.status).toBe(413);
    expect(response.body?.error.code).toBe('PayloadTooLarge');
    // Just below the limit is parsed (and refused for its content, not its size).
    const fits = await client.request('PUT', '/products/WIDGET-BLUE/stock', {
      onHand: 'x'.repeat(200 * 1024),
    });
    expect(fits.status).toBe(400);
  });

  it('refuses control characters in names and address lines, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ shippingAddress: { ...address, name: 'Jane\r\nBcc: x@evil.example' } }, 'shippingAddress.name'],
      [{ shippingAddress: { ...address, line1: 'Hauptstr. 1\n' } }, 'shippingAddress.line1'],
      [{ shippingAddress: { ...address, line2: 'c/o\u0000' } }, 'shippingAddress.line2'],
      [{ shippingAddress: { ...address, city: 'Ber\u007flin' } }, 'shippingAddress.city'],
      [{ payment: { method: 'card', token: 'tok_visa\t' } }, 'payment.token'],
    ];
    for (const [override, path] of cases) {
      const response = await client.request('POST', '/orders', orderBody(override), {
        'idempotency-key': `ctrl-${crypto.randomUUID()}`,
      });
      expect(response.status, path).toBe(400);
      expect(issuePaths(response), path).toEqual([path]);
      expect(response.body?.error.issues[0].message).toMatch(/control characters/);
    }
    // Letters of any script are fine.
    const orderId = await client.placeOrder(
      orderBody({ shippingAddress: { ...address, name: 'Łukasz Żółć', line1: 'ул. Тверская 1', city: 'Αθήνα' } }),
    );
    expect(orderId).toMatch(/^ord-/);
  });

  it('names the path parameter that is wrong', async () => {
    const order = await client.request('GET', '/orders/not-an-order');
    expect(order.status).toBe(400);
    expect(issuePaths(order)).toEqual(['orderId']);
    const stock = await client.request('PUT', '/products/bad%20sku/stock', { onHand: 1 });
    expect(stock.status).toBe(400);
    expect(issuePaths(stock)).toEqual(['sku']);
  });
});

describe('invoicing', () => {
  it('sends finance its own copy: the customer e-mail does not show finance', async () => {
    const orderId = await client.placeOrder(
      orderBody({ lines: [{ sku: 'CABLE-USB-C', quantity: 1, unitPrice: 990 }] }),
    );
    const order = await client.waitForStatus(orderId, 'COMPLETED');
    // One shipment, one invoice.
    expect(order.invoices).toHaveLength(1);
    const [invoice] = order.invoices;
    const mails = (await client.sentEmails()).filter((e) => String(e.subject).includes(invoice.number));
    expect(mails).toHaveLength(2);
    const customer = mails.find((e) => !String(e.subject).includes('finance copy'));
    const finance = mails.find((e) => String(e.subject).includes('finance copy'));
    expect(customer?.destination).toEqual(expect.objectContaining({ to: ['jane.doe@example.com'] }));
    expect(JSON.stringify(customer)).not.toContain('finance@example.com');
    expect(finance?.destination).toEqual(expect.objectContaining({ to: ['finance@example.com'] }));
    expect(JSON.stringify(finance)).not.toContain('jane.doe@example.com');
    for (const mail of [customer, finance])
      expect(mail?.attachments).toEqual([expect.objectContaining({ filename: `${invoice.number}.pdf` })]);
  });

  it('takes the numbering over from a holder that crashed, once its lease expired', async () => {
    const year = new Date().getUTCFullYear();
    const expiresAt = Date.now() + 4_000;
    await db.send(
      new PutCommand({
        TableName: table('Invoices'),
        Item: { pk: `LEASE#${year}`, owner: 'a-function-that-crashed', expiresAt },
      }),
    );
    const orderId = await client.placeOrder(
      orderBody({ lines: [{ sku: 'CABLE-USB-C', quantity: 1, unitPrice: 990 }] }),
    );
    const order = await client.waitForStatus(orderId, 'COMPLETED');
    expect(order.invoices.map((i: { number: string }) => i.number)).toEqual([
      expect.stringMatching(/^INV-\d{4}-\d{6}$/),
    ]);
    const invoiced = Date.parse(order.timeline.find((e: { type: string }) => e.type === 'OrderInvoiced').at);
    expect(invoiced).toBeGreaterThanOrEqual(expiresAt);
    const lease = await db.send(
      new GetCommand({ TableName: table('Invoices'), Key: { pk: `LEASE#${year}` }, ConsistentRead: true }),
    );
    expect(lease.Item?.owner).not.toBe('a-function-that-crashed');
  });

  it('turns the credit hold into invoiced debt: a failure after invoicing gives nothing back', async () => {
    // A customer whose invoice e-mail cannot be sent: the invoice is issued, then IssueInvoice fails.
    const customerId = 'CUST-NOMAIL';
    await db.send(
      new PutCommand({
        TableName: table('Customers'),
        Item: {
          customerId,
          name: 'No Mail GmbH',
          email: 'not an address',
          billingEmail: 'not an address',
          status: 'active',
          paymentTerms: { type: 'on_account', netDays: 30 },
          creditLimit: 100_000,
          openBalance: 1_000,
          creditUsed: 1_000,
          currency: 'EUR',
          discountBasisPoints: 0,
          taxProfile: { country: 'DE', exempt: false },
          billingAddress: {
            name: 'No Mail GmbH',
            line1: 'Hauptstr. 2',
            city: 'Berlin',
            postalCode: '10115',
            country: 'DE',
          },
        },
      }),
    );
    const orderId = await client.placeOrder(
      orderBody({
        customerId,
        lines: [{ sku: 'CABLE-USB-C', quantity: 1, unitPrice: 990 }],
        payment: { method: 'on_account' },
      }),
    );
    const execution = await client.finished(orderId, 60_000);
    expect(execution.status).toBe('FAILED');
    const order = await client.order(orderId);
    expect(order.status).toBe('FAILED');
    expect(order.failure.code).toBe('InvoiceNotDelivered');
    expect(order.failure.message).toMatch(/^Payment captured, invoice INV-\d{4}-\d{6} issued but not delivered/);
    expect(JSON.stringify(order.failure)).not.toContain('not an address');

    const total = 1178; // 990 + 19% VAT
    const customer = await db.send(
      new GetCommand({ TableName: table('Customers'), Key: { customerId }, ConsistentRead: true }),
    );
    expect(customer.Item?.creditUsed).toBe(1_000 + total);
    expect(customer.Item?.openBalance).toBe(1_000 + total);
    const record = await db.send(
      new GetCommand({ TableName: table('Orders'), Key: { orderId, sk: 'ORDER' }, ConsistentRead: true }),
    );
    expect(record.Item).toBeDefined();
    expect(record.Item?.creditHold).toBeUndefined();
  });
});
