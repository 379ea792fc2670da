import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPayload } from '../../functions/core/signature.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { scanAll } from '../support/database.ts';
import { startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * The CRM channel end to end on the local runtime: signed deal events over real HTTP, the real
 * handler, intake, workflow (the sandbox carrier delivers by itself), DynamoDB Local and the local SES.
 */
const CRM_SECRET = 'test-crm-secret';
let runtime: LocalRuntime;
let client: TestClient;
let db: DynamoDBDocumentClient;
let tables: { orders: string; idempotency: string };

beforeAll(async () => {
  runtime = await startTestRuntime({ crmWebhookSecret: CRM_SECRET, carrierDeliveryMs: 200 });
  client = new TestClient(runtime);
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: runtime.urls.dynamodb,
      credentials: runtime.credentials,
    }),
  );
  const env = runtime.lambdas.environment();
  tables = { orders: env.ORDERS_TABLE_NAME as string, idempotency: env.IDEMPOTENCY_TABLE_NAME as string };
});

afterAll(async () => {
  await runtime?.stop();
});

const now = () => Math.floor(Date.now() / 1000);
let sequence = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++sequence}`;

const acmeAddress = {
  name: 'Acme Retail GmbH',
  line1: 'Lagerweg 3',
  city: 'Potsdam',
  postalCode: '14467',
  country: 'DE',
};

/** A won deal as HubSpot would send it, for Acme Retail (CUST-1001, on account) unless told otherwise. */
function wonDeal(overrides: Record<string, unknown> = {}, dealOverrides: Record<string, unknown> = {}) {
  return {
    eventId: unique('evt'),
    occurredAt: new Date().toISOString(),
    deal: {
      id: unique('deal'),
      stage: 'closedwon',
      currency: 'EUR',
      company: { externalId: 'crm-acme-retail', name: 'Acme Retail GmbH', email: 'orders@acme-retail.example' },
      lineItems: [{ sku: 'WIDGET-BLUE', quantity: 2, unitPrice: 1250 }],
      shippingAddress: acmeAddress,
      paymentTerms: 'on_account',
      ...dealOverrides,
    },
    ...overrides,
  };
}

interface Delivery {
  secret?: string;
  timestamp?: number | string;
  /** Replaces the computed header; `null` leaves it out. */
  signature?: string | null;
  /** Sent instead of the signed body (a body changed after signing). */
  sentBody?: string;
}

/** Posts a body to the CRM webhook, signed as the CRM signs it (HMAC-SHA256 over timestamp + "." + body). */
async function deliver(body: unknown, options: Delivery = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const timestamp = options.timestamp ?? now();
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-timestamp': String(timestamp) };
  const signature =
    options.signature === undefined ? signPayload(options.secret ?? CRM_SECRET, timestamp, raw) : options.signature;
  if (signature !== null) headers['x-signature'] = signature;
  const response = await fetch(`${runtime.urls.api}/webhooks/crm`, {
    method: 'POST',
    headers,
    body: options.sentBody ?? raw,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

const scan = (table: string) => scanAll(db, table);

/** What the intake writes: the orders (by id) and the idempotency records (by key). */
async function written() {
  const [orders, records] = await Promise.all([scan(tables.orders), scan(tables.idempotency)]);
  return {
    orderIds: [...new Set(orders.map((item) => item.orderId as string))].sort(),
    idempotencyKeys: records.map((item) => item.id as string).sort(),
  };
}

async function storedOrder(orderId: string) {
  const { Item } = await db.send(
    new GetCommand({ TableName: tables.orders, Key: { orderId, sk: 'ORDER' }, ConsistentRead: true }),
  );
  return Item as Record<string, any>;
}

async function executionCount(): Promise<number> {
  let count = 0;
  let nextToken: string | undefined;
  do {
    const page = await client.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: runtime.stateMachineArn, nextToken, maxResults: 1000 }),
    );
    count += page.executions?.length ?? 0;
    nextToken = page.nextToken;
  } while (nextToken);
  return count;
}

/** The invoice e-mail of a completed order, as the local SES holds it. */
async function invoiceEmail(invoiceNumber: string) {
  const emails = await client.sentEmails();
  return emails.find((e) => String(e.subject).includes(invoiceNumber) && !String(e.subject).includes('finance'));
}

describe('won deals become orders', () => {
  it('captures a won deal for a company known by its CRM id and runs it to COMPLETED, invoice e-mailed', async () => {
    const event = wonDeal();
    const answer = await deliver(event);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      eventId: event.eventId,
      orderId: expect.stringMatching(/^ord-/),
      status: 'RECEIVED',
    });
    const orderId = answer.body?.orderId as string;

    const order = await client.waitForStatus(orderId, 'COMPLETED');
    expect(order.customerId).toBe('CUST-1001');
    expect(order.channel).toBe('crm');
    expect(order.externalReference).toBe(event.deal.id);
    expect(order.placedBy).toEqual({ kind: 'client', id: 'crm' });
    expect(order.payment.method).toBe('on_account');
    expect(order.lines.map((l: { sku: string; quantity: number }) => [l.sku, l.quantity])).toEqual([
      ['WIDGET-BLUE', 2],
    ]);
    const stored = await storedOrder(orderId);
    expect(stored).toMatchObject({ channel: 'crm', externalReference: event.deal.id, shippingAddress: acmeAddress });

    const [invoice] = order.invoices;
    const email = await invoiceEmail(invoice.number);
    expect(email?.destination.to).toEqual(['invoices@acme-retail.example']);
    expect(email?.attachments?.[0]?.contentType).toBe('application/pdf');
  });

  it("finds the customer by e-mail (any case) when the CRM id is not linked, and charges the customer's card on file", async () => {
    const event = wonDeal(
      {},
      {
        company: { externalId: 'hubspot-company-98765', name: 'Jane Doe', email: 'Jane.Doe@Example.com' },
        lineItems: [{ sku: 'GADGET-MINI', quantity: 1, unitPrice: 3900 }],
        paymentTerms: 'card',
        shippingAddress: undefined,
      },
    );
    const answer = await deliver(event);
    expect(answer.status).toBe(202);
    const orderId = answer.body?.orderId as string;

    const order = await client.waitForStatus(orderId, 'COMPLETED');
    expect(order.customerId).toBe('CUST-1002');
    expect(order.payment).toEqual({ method: 'card', status: 'CAPTURED' });
    // No address on the deal: the customer's billing address.
    expect((await storedOrder(orderId)).shippingAddress).toMatchObject({ line1: 'Hauptstr. 1', city: 'Berlin' });
    const email = await invoiceEmail(order.invoices[0].number);
    expect(email?.destination.to).toEqual(['jane.doe@example.com']);
  });
});

describe('events that create nothing', () => {
  it('acknowledges a deal in another stage, records it, and answers a replay the same', async () => {
    const before = await written();
    const event = {
      eventId: unique('evt'),
      occurredAt: new Date().toISOString(),
      // An open deal may have no line items yet: only the envelope is read.
      deal: { id: unique('deal'), stage: 'appointmentscheduled' },
    };
    const timestamp = now();
    const first = await deliver(event, { timestamp });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ eventId: event.eventId, ignored: true, reason: expect.stringContaining('closedwon') });
    const replay = await deliver(event, { timestamp });
    expect(replay).toEqual(first);

    const after = await written();
    expect(after.orderIds).toEqual(before.orderIds);
    expect(after.idempotencyKeys).toHaveLength(before.idempotencyKeys.length + 1);

    // The event id is spent: the same id now claiming a won deal is refused.
    const reused = await deliver(wonDeal({ eventId: event.eventId }));
    expect(reused.status).toBe(422);
    expect(reused.body?.error).toMatchObject({ code: 'IdempotencyKeyReused', issues: [{ path: 'eventId' }] });
    expect((await written()).orderIds).toEqual(before.orderIds);
  });

  it('refuses a deal of an unknown company with 422 and writes nothing', async () => {
    const before = await written();
    const answer = await deliver(
      wonDeal({}, { company: { externalId: 'hubspot-unknown-1', name: 'Nobody Ltd', email: 'buyer@nobody.example' } }),
    );
    expect(answer.status).toBe(422);
    expect(answer.body?.error).toMatchObject({
      code: 'UnknownCompany',
      message: expect.stringContaining('hubspot-unknown-1'),
      issues: [
        { path: 'deal.company.externalId', message: "is no customer's CRM company id" },
        { path: 'deal.company.email', message: "is no customer's ordering e-mail address" },
      ],
    });
    expect(await written()).toEqual(before);
  });

  it('refuses what the intake cannot order with 422, naming the deal fields', async () => {
    const before = await written();
    const answer = await deliver(
      wonDeal({}, { paymentTerms: 'card', lineItems: [{ sku: 'NO-SUCH-SKU', quantity: 1, unitPrice: 100 }] }),
    );
    expect(answer.status).toBe(422);
    expect(answer.body?.error.code).toBe('InvalidOrder');
    expect(answer.body?.error.issues).toEqual([
      { path: 'deal.paymentTerms', message: expect.stringContaining('no card on file') },
      { path: 'deal.lineItems.0.sku', message: 'product NO-SUCH-SKU is not sold' },
    ]);
    expect(await written()).toEqual(before);
  });
});

describe('signatures', () => {
  it('refuses missing, wrong, malformed and stale signatures with 401, writing nothing', async () => {
    const before = await written();
    const event = wonDeal();
    const body = JSON.stringify(event);
    const refusals = {
      'no signature': await deliver(event, { signature: null }),
      'no timestamp': await deliver(event, { timestamp: '' }),
      'another secret': await deliver(event, { secret: 'not-the-crm-secret' }),
      "the carrier's secret": await deliver(event, { secret: 'test-carrier-secret' }),
      'malformed header': await deliver(event, { signature: 'sha256=not-hex' }),
      'body changed after signing': await deliver(event, { sentBody: body.replace('"quantity":2', '"quantity":20') }),
      '6 minutes old': await deliver(event, { timestamp: now() - 360 }),
      '6 minutes ahead': await deliver(event, { timestamp: now() + 360 }),
    };
    for (const [what, answer] of Object.entries(refusals)) {
      expect(answer.status, what).toBe(401);
      expect(answer.body?.error.code, what).toBe('InvalidSignature');
    }
    expect(refusals['6 minutes old'].body?.error.message).toBe('X-Timestamp is outside the allowed 5 minute window');
    expect(refusals['malformed header'].body?.error.message).toContain('sha256=');
    expect(await written()).toEqual(before);
  });

  it('answers a replay of the exact signed request with the same order, and refuses the event id with another body', async () => {
    const before = await written();
    const event = wonDeal({}, { lineItems: [{ sku: 'CABLE-USB-C', quantity: 3, unitPrice: 990 }] });
    const timestamp = now();
    const first = await deliver(event, { timestamp });
    const replay = await deliver(event, { timestamp });
    expect(first.status).toBe(202);
    expect(replay).toEqual(first);

    const changed = await deliver({
      ...event,
      deal: { ...event.deal, lineItems: [{ sku: 'CABLE-USB-C', quantity: 4, unitPrice: 990 }] },
    });
    expect(changed.status).toBe(422);
    expect(changed.body?.error.code).toBe('IdempotencyKeyReused');

    const after = await written();
    expect(after.orderIds).toEqual([...before.orderIds, first.body?.orderId].sort());
    await client.waitForStatus(first.body?.orderId, 'COMPLETED');
  });
});

describe('a storm of identical deliveries', () => {
  it('makes one order, one execution, and takes the stock once', async () => {
    const sku = 'DOCK-4K';
    const quantity = 3;
    const stockBefore = await client.product(sku);
    const executionsBefore = await executionCount();
    const ordersBefore = (await written()).orderIds;

    const event = wonDeal({}, { lineItems: [{ sku, quantity, unitPrice: 18_900 }] });
    const timestamp = now();
    const answers = await Promise.all(Array.from({ length: 50 }, () => deliver(event, { timestamp })));

    const accepted = answers.filter((a) => a.status === 202);
    expect(answers.every((a) => a.status === 202 || a.status === 409)).toBe(true);
    expect(accepted.length).toBeGreaterThan(0);
    const orderIds = new Set(accepted.map((a) => a.body?.orderId));
    expect(orderIds.size).toBe(1);
    for (const refused of answers.filter((a) => a.status === 409))
      expect(refused.body?.error.code).toBe('RequestInProgress');
    const orderId = [...orderIds][0] as string;
    // The CRM's retry after a 409 gets the same order.
    expect((await deliver(event)).body?.orderId).toBe(orderId);

    // Taken once: the one order reserved, shipped and delivered `quantity`, and the stock moved by that much.
    const completed = await client.waitForStatus(orderId, 'COMPLETED');
    expect(completed.quantities).toEqual([
      expect.objectContaining({ sku, ordered: quantity, shipped: quantity, delivered: quantity }),
    ]);
    const stockAfter = await client.product(sku);
    expect(stockAfter.onHand).toBe(stockBefore.onHand - quantity);
    expect(stockAfter.available).toBe(stockBefore.available - quantity);
    expect(stockAfter.reserved).toBe(stockBefore.reserved);

    expect((await written()).orderIds).toEqual([...ordersBefore, orderId].sort());
    expect(await executionCount()).toBe(executionsBefore + 1);
  });
});

/** A value of the wrong kind for any field: the schema refuses each (a string where one is allowed is added per field). */
const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);
const controlCharacter = fc.constantFrom('\n', '\r', '\t', '\u0000', '\u2028');
const withControlCharacter = fc
  .tuple(fc.string({ maxLength: 5 }), controlCharacter, fc.string({ maxLength: 5 }))
  .map(([a, c, b]) => `${a}${c}${b}`);
const REMOVE = Symbol('remove');

/**
 * Ways to break a won deal, each refused by the webhook whatever else is broken: a missing field, a
 * value of the wrong type or form, or a well-formed deal the intake cannot order (unknown company,
 * product, currency, card on file; the same product twice). The stage stays closedwon unless it is
 * made malformed (another valid stage would rightly be acknowledged and ignored).
 */
const corruptions: [path: string, value: fc.Arbitrary<unknown>][] = [
  [
    'eventId',
    fc.oneof(fc.constant(REMOVE), wrongType, fc.constant(''), withControlCharacter, fc.constant('e'.repeat(129))),
  ],
  [
    'occurredAt',
    fc.oneof(fc.constant(REMOVE), wrongType, fc.constantFrom('yesterday', '2026-13-01T00:00:00Z', '2026-11-28')),
  ],
  ['deal', fc.oneof(fc.constant(REMOVE), wrongType, fc.string({ maxLength: 5 }))],
  ['deal.id', fc.oneof(fc.constant(REMOVE), wrongType, fc.constantFrom('', '   '), withControlCharacter)],
  [
    'deal.stage',
    fc.oneof(fc.constant(REMOVE), wrongType, fc.constant(''), withControlCharacter, fc.constant('s'.repeat(101))),
  ],
  ['deal.currency', fc.oneof(fc.constant(REMOVE), wrongType, fc.constantFrom('eur', 'EURO', 'E1R', 'JPY'))],
  ['deal.company', fc.oneof(fc.constant(REMOVE), wrongType, fc.constant({}))],
  ['deal.company.externalId', fc.oneof(fc.constant(REMOVE), wrongType, fc.constant(''), withControlCharacter)],
  ['deal.company.email', fc.oneof(wrongType, fc.constantFrom('not-an-email', 'a@', '@b.example', 'a b@c.example'))],
  [
    'deal.company',
    fc.constantFrom(
      { externalId: 'hubspot-unknown-2', email: 'nobody@nowhere.example' },
      { externalId: 'hubspot-unknown-3' },
    ),
  ],
  ['deal.lineItems', fc.oneof(fc.constant(REMOVE), wrongType, fc.constant([]))],
  [
    'deal.lineItems',
    fc.constantFrom(
      Array.from({ length: 51 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1, unitPrice: 100 })),
      [
        { sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1250 },
        { sku: 'WIDGET-BLUE', quantity: 2, unitPrice: 1250 },
      ],
      [{ sku: 'NO-SUCH-SKU', quantity: 1, unitPrice: 100 }],
    ),
  ],
  ['deal.lineItems.0', fc.oneof(fc.constant(REMOVE), wrongType)],
  ['deal.lineItems.0.sku', fc.oneof(fc.constant(REMOVE), wrongType, fc.constantFrom('', 'widget-blue', 'X', 'A B'))],
  [
    'deal.lineItems.0.quantity',
    fc.oneof(fc.constant(REMOVE), fc.integer({ max: 0 }), fc.integer({ min: 10_001 }), fc.constantFrom(1.5, '2', null)),
  ],
  [
    'deal.lineItems.0.unitPrice',
    fc.oneof(fc.constant(REMOVE), fc.integer({ max: -1 }), fc.constantFrom(12.5, '1250', null)),
  ],
  [
    'deal.shippingAddress',
    fc.oneof(
      wrongType.filter((v) => v !== null),
      fc.constant({}),
    ),
  ],
  ['deal.shippingAddress.country', fc.oneof(fc.constant(REMOVE), wrongType, fc.constantFrom('Germany', 'de', ''))],
  ['deal.shippingAddress.line1', fc.oneof(fc.constant(REMOVE), wrongType, fc.constant(''), withControlCharacter)],
  [
    'deal.paymentTerms',
    fc.oneof(
      wrongType.filter((v) => v !== null),
      fc.constantFrom('cash', 'CARD', ''),
    ),
  ],
  // Acme has no card on file.
  ['deal.paymentTerms', fc.constant('card')],
];

/** Sets (or removes) the value at a dotted path, if its parent is still an object or array. */
function corrupt(body: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop() as string;
  let parent: unknown = body;
  for (const key of keys) {
    if (parent === null || typeof parent !== 'object') return;
    parent = (parent as Record<string, unknown>)[key];
  }
  if (parent === null || typeof parent !== 'object') return;
  if (value === REMOVE) delete (parent as Record<string, unknown>)[last];
  else (parent as Record<string, unknown>)[last] = value;
}

const malformedBody = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(...corruptions.map(([path, value]) => value.map((v) => [path, v] as const))), {
        minLength: 1,
        maxLength: 3,
      })
      .map((changes) => {
        const body = structuredClone(wonDeal()) as Record<string, unknown>;
        for (const [path, value] of changes) corrupt(body, path, value);
        return JSON.stringify(body);
      }),
  },
  // Not a deal event at all: any JSON, or no JSON.
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value) ?? 'null') },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '{"eventId":', 'eventId=1&stage=closedwon', '[]', 'null') },
);

describe('malformed deal events, correctly signed', () => {
  it('get a 4xx naming the problem and write nothing', async () => {
    const before = await written();
    await fc.assert(
      fc.asyncProperty(malformedBody, async (body) => {
        const answer = await deliver(body);
        expect([400, 422], body).toContain(answer.status);
        expect(answer.body?.error?.code, body).toEqual(expect.any(String));
        expect(answer.body?.error?.message, body).toEqual(expect.any(String));
      }),
      { numRuns: 40 },
    );
    expect(await written()).toEqual(before);
  });
});
