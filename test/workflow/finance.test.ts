import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvoiceLedger } from '../../functions/adapters/invoice-ledger.ts';
import { InvoicesRepository } from '../../functions/adapters/invoices-repository.ts';
import { sandboxRefunds } from '../../functions/adapters/payments.ts';
import { creditNoteLines } from '../../functions/core/invoicing.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { pdfText } from '../support/pdf-text.ts';
import { orderBody, shiftClock, startTestRuntime, TestClient } from '../support/runtime.ts';

/** Finance on the real runtime: invoices over HTTP, credit notes, payments on account, overdue. */
let runtime: LocalRuntime;
let client: TestClient;
let finance: TestClient;
let db: DynamoDBDocumentClient;
const table = (part: string) => runtime.deployment.tables.find((t) => t.TableName?.includes(part))?.TableName as string;

beforeAll(async () => {
  runtime = await startTestRuntime({ carrierDeliveryMs: 100 });
  client = new TestClient(runtime);
  finance = client.as('finance');
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: runtime.urls.dynamodb,
      credentials: runtime.credentials,
    }),
  );
});

afterAll(async () => {
  shiftClock(0);
  await runtime?.stop();
});

async function pdf(path: string, as = 'finance') {
  const response = await fetch(`${runtime.urls.api}${path}`, {
    headers: { authorization: `Bearer ${await client.token(as)}` },
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

/** What the local bus received (every PutEvents entry), as its /events endpoint lists it. */
const busEvents = async (detailType: string) => {
  const response = await fetch(`${runtime.urls.eventbridge}/events`);
  const events = (await response.json()) as { 'detail-type': string; source: string; detail: Record<string, any> }[];
  return events.filter((e) => e['detail-type'] === detailType && e.source === 'sales.orders').map((e) => e.detail);
};

const customer = async (customerId: string) =>
  (await db.send(new GetCommand({ TableName: table('Customers'), Key: { customerId }, ConsistentRead: true }))).Item;

async function completedOrder(overrides: Record<string, unknown> = {}) {
  const orderId = await client.placeOrder(orderBody(overrides));
  const order = await client.waitForStatus(orderId, 'COMPLETED');
  return order.invoices[0].number as string;
}

describe('invoices over HTTP', () => {
  it('serves a completed order invoice as JSON and as its PDF; non-finance tokens get 403', async () => {
    const number = await completedOrder();
    const response = await finance.request('GET', `/invoices/${number}`);
    expect(response.status).toBe(200);
    const invoice = response.body as Record<string, any>;
    expect(invoice).toMatchObject({ invoiceNumber: number, status: 'paid', paymentMethod: 'card', outstanding: 0 });
    expect(invoice.amountPaid).toBe(invoice.totals.total);
    expect(invoice.dueDate).toBe(invoice.issuedAt);
    expect(invoice.seller.vatId).toMatch(/^DE/);
    expect(invoice.taxSummary[0]).toEqual({
      rateBasisPoints: 1900,
      net: invoice.totals.subtotal,
      tax: invoice.totals.tax,
    });
    const file = await pdf(`/invoices/${number}/pdf`);
    expect(file.status).toBe(200);
    expect(file.type).toBe('application/pdf');
    const text = pdfText(file.body).join('\n');
    expect(text).toContain(number);
    expect(text).toContain('Status: paid');
    for (const who of ['checkout', 'rep', 'buyer', 'erp']) {
      expect((await client.as(who).request('GET', `/invoices/${number}`)).status, who).toBe(403);
      expect(
        (await client.as(who).request('POST', `/invoices/${number}/credit-notes`, { reason: 'x' })).status,
        who,
      ).toBe(403);
    }
    expect((await client.as('ops').request('POST', `/invoices/${number}/payments`, {})).status).toBe(403);
    const listed = await finance.request('GET', '/invoices?status=paid&limit=100');
    expect(listed.status).toBe(200);
    expect(listed.body?.invoices.map((i: { invoiceNumber: string }) => i.invoiceNumber)).toContain(number);
  });
});

describe('credit notes', () => {
  it('credits a card order: CN number, refund keyed by the request, PDF and e-mails; never beyond the invoice', async () => {
    const number = await completedOrder();
    const partial = await finance.request(
      'POST',
      `/invoices/${number}/credit-notes`,
      { reason: 'One widget damaged', lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }] },
      { 'idempotency-key': `cn-${number}` },
    );
    expect(partial.status).toBe(201);
    const note = partial.body as Record<string, any>;
    expect(note.creditNoteNumber).toMatch(/^CN-\d{4}-\d{6}$/);
    expect(note.totals).toMatchObject({ subtotal: 1250, tax: 238, total: 1488 });
    expect(note.refundId).toMatch(/^re_/);
    expect(sandboxRefunds.get(`creditnote:${note.requestId}`)?.amount).toBe(1488);
    // The same request again: the same note, no second refund.
    const again = await finance.request(
      'POST',
      `/invoices/${number}/credit-notes`,
      { reason: 'One widget damaged', lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }] },
      { 'idempotency-key': `cn-${number}` },
    );
    expect(again.body?.creditNoteNumber).toBe(note.creditNoteNumber);
    expect((await finance.request('GET', `/credit-notes/${note.creditNoteNumber}`)).body?.invoiceNumber).toBe(number);
    const file = await pdf(`/credit-notes/${note.creditNoteNumber}/pdf`);
    expect(file.type).toBe('application/pdf');
    expect(pdfText(file.body).join('\n')).toContain(`Corrects invoice: ${number}`);
    const mails = (await client.sentEmails()).filter((e) => String(e.subject).includes(note.creditNoteNumber));
    expect(mails.map((m) => m.destination.to[0]).sort()).toEqual(['finance@example.com', 'jane.doe@example.com']);
    // The same key with another body: refused, naming the key; the first note stands.
    const reused = await finance.request(
      'POST',
      `/invoices/${number}/credit-notes`,
      { reason: 'One widget damaged', lines: [{ sku: 'WIDGET-BLUE', quantity: 2 }] },
      { 'idempotency-key': `cn-${number}` },
    );
    expect(reused.status).toBe(422);
    expect(reused.body?.error).toMatchObject({ code: 'IdempotencyKeyReused', issues: [{ path: 'Idempotency-Key' }] });
    // Without a key a retry could not be told from a new note: refused, naming the header.
    const keyless = await finance.request('POST', `/invoices/${number}/credit-notes`, { reason: 'Order returned' });
    expect(keyless.status).toBe(400);
    expect(keyless.body?.error.issues).toEqual([expect.objectContaining({ path: 'Idempotency-Key' })]);
    // The rest, then nothing more.
    const rest = await finance.request(
      'POST',
      `/invoices/${number}/credit-notes`,
      { reason: 'Order returned' },
      { 'idempotency-key': `rest-${number}` },
    );
    expect(rest.status).toBe(201);
    const invoice = (await finance.request('GET', `/invoices/${number}`)).body as Record<string, any>;
    expect(invoice.status).toBe('credited');
    expect(invoice.amountCredited).toBe(invoice.totals.total);
    const over = await finance.request(
      'POST',
      `/invoices/${number}/credit-notes`,
      { reason: 'Again' },
      { 'idempotency-key': `again-${number}` },
    );
    expect(over.status).toBe(422);
    expect(over.body?.error.code).toBe('CreditNoteRefused');
  });

  it('finishes a request left half-way on its schedule: refund, number, PDF and e-mails, once', async () => {
    const number = await completedOrder();
    const invoices = new InvoicesRepository(table('Invoices'));
    const ledger = new InvoiceLedger(invoices, table('Invoices'), table('Customers'));
    const requestId = `sweep${number.replaceAll('-', '')}`;
    // Recorded as the route records it, then the caller went away before the refund.
    await ledger.requestCreditNote(number, requestId, new Date().getUTCFullYear(), (invoice) => ({
      ...creditNoteLines(invoice),
      requestId,
      invoiceNumber: invoice.invoiceNumber,
      orderId: invoice.orderId,
      customerId: invoice.customerId,
      customerName: invoice.customerName,
      customerEmail: invoice.customerEmail,
      seller: invoice.seller,
      billingAddress: invoice.billingAddress,
      issuedAt: new Date().toISOString(),
      currency: invoice.currency,
      reason: 'Returned',
      paymentMethod: invoice.paymentMethod,
      settlement: 'refund',
    }));
    expect(await invoices.findNumbered('CN', requestId)).toBeUndefined();
    runtime.fireSchedule('UnfinishedCreditNotesSweep');
    await runtime.drainEvents();
    runtime.fireSchedule('UnfinishedCreditNotesSweep'); // again: nothing twice
    await runtime.drainEvents();
    const note = await invoices.findNumbered<Record<string, any>>('CN', requestId);
    expect(note?.creditNoteNumber).toMatch(/^CN-\d{4}-\d{6}$/);
    expect(note?.refundId).toBe(sandboxRefunds.get(`creditnote:${requestId}`)?.refundId);
    expect(note?.pdfKey).toBeDefined();
    const mails = (await client.sentEmails()).filter((e) => String(e.subject).includes(note?.creditNoteNumber));
    expect(mails.map((m) => m.destination.to[0]).sort()).toEqual(['finance@example.com', 'jane.doe@example.com']);
  });

  it('numbers 100 concurrent requests of each series consecutively: no gap, no duplicate', async () => {
    const repository = new InvoicesRepository(table('Invoices'));
    const year = 2091;
    const draft = (id: string) => ({ orderId: `ord-${id.padStart(26, '0')}`, note: id });
    const [invoices, notes] = await Promise.all([
      Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          repository.number<{ invoiceNumber: string }>('INV', `ord-i${i}`, draft(`i${i}`), year, { waitMs: 60_000 }),
        ),
      ),
      Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          repository.number<{ creditNoteNumber: string }>('CN', `req-${i}`, draft(`c${i}`), year, { waitMs: 60_000 }),
        ),
      ),
    ]);
    const expected = (series: string) =>
      Array.from({ length: 100 }, (_, i) => `${series}-${year}-${String(i + 1).padStart(6, '0')}`);
    expect(invoices.map((d) => d.invoiceNumber).sort()).toEqual(expected('INV'));
    expect(notes.map((d) => d.creditNoteNumber).sort()).toEqual(expected('CN'));
  }, 120_000);
});

describe('payments on account and overdue', () => {
  const seedCustomer = (customerId: string) =>
    db.send(
      new PutCommand({
        TableName: table('Customers'),
        Item: {
          customerId,
          name: 'Account GmbH',
          email: `${customerId.toLowerCase()}@example.com`,
          billingEmail: `billing.${customerId.toLowerCase()}@example.com`,
          status: 'active',
          paymentTerms: { type: 'on_account', netDays: 30 },
          creditLimit: 1_000_000,
          openBalance: 0,
          creditUsed: 0,
          currency: 'EUR',
          discountBasisPoints: 0,
          taxProfile: { country: 'DE', exempt: false },
          billingAddress: {
            name: 'Account GmbH',
            line1: 'Hauptstr. 1',
            city: 'Berlin',
            postalCode: '10115',
            country: 'DE',
          },
        },
      }),
    );
  const onAccount = (customerId: string) =>
    completedOrder({
      customerId,
      lines: [{ sku: 'CABLE-USB-C', quantity: 1, unitPrice: 990 }],
      payment: { method: 'on_account' },
    });

  it('takes a payment in two parts: the invoice turns paid, credit is freed, one receipt', async () => {
    const customerId = 'CUST-PAYS';
    await seedCustomer(customerId);
    const number = await onAccount(customerId);
    const invoice = (await finance.request('GET', `/invoices/${number}`)).body as Record<string, any>;
    expect(invoice).toMatchObject({ status: 'open', amountPaid: 0, outstanding: 1178 });
    expect(Date.parse(invoice.dueDate) - Date.parse(invoice.issuedAt)).toBe(30 * 86_400_000);
    expect(await customer(customerId)).toMatchObject({ openBalance: 1178, creditUsed: 1178 });
    const pay = (amount: number, reference: string) =>
      finance.request('POST', `/invoices/${number}/payments`, {
        amount,
        reference,
        receivedAt: new Date().toISOString(),
      });
    const first = await pay(500, 'BANK-1');
    expect(first.status).toBe(201);
    expect(first.body?.invoice.status).toBe('open');
    expect((await pay(500, 'BANK-1')).status).toBe(200); // replay
    expect((await pay(501, 'BANK-1')).status).toBe(409);
    const tooMuch = await pay(679, 'BANK-2');
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body?.error.issues[0].path).toBe('amount');
    const second = await pay(678, 'BANK-2');
    expect(second.status).toBe(201);
    expect(second.body?.invoice).toMatchObject({ status: 'paid', amountPaid: 1178, outstanding: 0 });
    expect((await pay(678, 'BANK-2')).status).toBe(200);
    expect(await customer(customerId)).toMatchObject({ openBalance: 0, creditUsed: 0 });
    const receipts = (await client.sentEmails()).filter(
      (e) => String(e.subject) === `Payment received: invoice ${number}`,
    );
    expect(receipts).toHaveLength(1);
  });

  it('publishes a numbered credit note and a recorded payment on the bus, a retry as the same fact', async () => {
    const customerId = 'CUST-EVENTS';
    await seedCustomer(customerId);
    const [card, account] = await Promise.all([completedOrder(), onAccount(customerId)]);
    const credit = () =>
      finance.request(
        'POST',
        `/invoices/${card}/credit-notes`,
        { reason: 'One widget damaged', lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }] },
        { 'idempotency-key': `events-${card}` },
      );
    const note = (await credit()).body as Record<string, any>;
    expect((await credit()).body?.creditNoteNumber).toBe(note.creditNoteNumber); // the client retries
    const receivedAt = new Date(Date.now() - 3_600_000).toISOString();
    const pay = () =>
      finance.request('POST', `/invoices/${account}/payments`, { amount: 300, reference: 'BANK-EV', receivedAt });
    expect((await pay()).status).toBe(201);
    expect((await pay()).status).toBe(200);

    const notes = (await busEvents('OrderCreditNoteIssued')).filter(
      (d) => d.creditNoteNumber === note.creditNoteNumber,
    );
    expect(notes).toHaveLength(2);
    expect(notes[1]).toEqual(notes[0]);
    expect(notes[0]).toMatchObject({
      version: 1,
      eventId: `${note.orderId}:OrderCreditNoteIssued:${note.creditNoteNumber}`,
      orderId: note.orderId,
      occurredAt: note.issuedAt,
      invoiceNumber: card,
      amount: note.totals.total,
      currency: 'EUR',
      status: 'COMPLETED',
    });
    const payments = (await busEvents('OrderPaymentReceived')).filter((d) => d.invoiceNumber === account);
    expect(payments).toHaveLength(2);
    expect(payments[1]).toEqual(payments[0]);
    const invoice = (await finance.request('GET', `/invoices/${account}`)).body as Record<string, any>;
    expect(payments[0]).toMatchObject({
      eventId: `${invoice.orderId}:OrderPaymentReceived:${account}:BANK-EV`,
      orderId: invoice.orderId,
      customerId,
      occurredAt: receivedAt,
      reference: 'BANK-EV',
      amount: 300,
    });
  });

  it('publishes on its schedule a payment whose request died before publishing it, once', async () => {
    const customerId = 'CUST-LEFT';
    await seedCustomer(customerId);
    const number = await onAccount(customerId);
    const ledger = new InvoiceLedger(new InvoicesRepository(table('Invoices')), table('Invoices'), table('Customers'));
    const receivedAt = new Date(Date.now() - 86_400_000).toISOString();
    // Recorded as the route records it, three minutes ago; then the function died before publishing.
    await ledger.recordPayment(
      number,
      { amount: 400, reference: 'BANK-LEFT', receivedAt },
      new Date(Date.now() - 3 * 60_000),
    );
    runtime.fireSchedule('UnfinishedCreditNotesSweep');
    await runtime.drainEvents();
    runtime.fireSchedule('UnfinishedCreditNotesSweep'); // again: published once
    await runtime.drainEvents();
    const payments = (await busEvents('OrderPaymentReceived')).filter((d) => d.invoiceNumber === number);
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({
      eventId: `${payments[0]?.orderId}:OrderPaymentReceived:${number}:BANK-LEFT`,
      customerId,
      occurredAt: receivedAt,
      amount: 400,
    });
    const { Item } = await db.send(
      new GetCommand({
        TableName: table('Invoices'),
        Key: { pk: `PAYMENT#${number}#BANK-LEFT` },
        ConsistentRead: true,
      }),
    );
    expect(Item?.pendingYear).toBeUndefined();
  });

  it('marks an open invoice overdue once the clock passes its due date (hourly schedule)', async () => {
    const customerId = 'CUST-LATE';
    await seedCustomer(customerId);
    const number = await onAccount(customerId);
    runtime.fireSchedule('OverdueInvoicesSweep');
    await runtime.drainEvents();
    expect((await finance.request('GET', `/invoices/${number}`)).body?.status).toBe('open');
    shiftClock(31 * 86_400_000);
    try {
      runtime.fireSchedule('OverdueInvoicesSweep');
      await runtime.drainEvents();
    } finally {
      shiftClock(0);
    }
    expect((await finance.request('GET', `/invoices/${number}`)).body?.status).toBe('overdue');
    const listed = await finance.request('GET', '/invoices?status=overdue');
    expect(listed.body?.invoices.map((i: { invoiceNumber: string }) => i.invoiceNumber)).toContain(number);
    // A credit note on account gives the credit back.
    const credited = await finance.request(
      'POST',
      `/invoices/${number}/credit-notes`,
      { reason: 'Goodwill' },
      { 'idempotency-key': `goodwill-${number}` },
    );
    expect(credited.status).toBe(201);
    expect(credited.body?.settlement).toBe('balance');
    expect((await finance.request('GET', `/invoices/${number}`)).body?.status).toBe('credited');
    expect(await customer(customerId)).toMatchObject({ openBalance: 0, creditUsed: 0 });
  });
});
