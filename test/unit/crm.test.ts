import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CRM_WON_STAGE, dealEntry, dealProblems, isWonStage } from '../../functions/core/crm.ts';
import { openApiDocument } from '../../functions/core/openapi.ts';
import { resolveEntry } from '../../functions/core/order-entry.ts';
import {
  CrmDealEvent,
  CrmWonDealEvent,
  type Customer,
  OrderEntry,
  type Product,
} from '../../functions/core/schemas.ts';
import { SIGNATURE_TOLERANCE_SECONDS, signPayload, verifySignature } from '../../functions/core/signature.ts';
import { DEMO_CUSTOMERS, DEMO_PRODUCTS } from '../../local/seed.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';

const documents = mockClient(DynamoDBDocumentClient);
const dynamo = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);
const secrets = mockClient(SecretsManagerClient);

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  ORDERS_TABLE_NAME: 'Orders',
  PRODUCTS_TABLE_NAME: 'Products',
  CUSTOMERS_TABLE_NAME: 'Customers',
  IDEMPOTENCY_TABLE_NAME: 'Idempotency',
  EVENT_BUS_NAME: 'Bus',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:orders',
  CRM_WEBHOOK_SECRET_ID: 'crm-secret',
  POWERTOOLS_LOG_LEVEL: 'INFO',
});

const SECRET = 'unit-crm-secret';
const NOW = 1_800_000_000;

const wonDeal = {
  id: 'deal-4711',
  stage: 'closedwon',
  currency: 'EUR',
  company: { externalId: 'crm-acme-retail', name: 'Acme Retail GmbH', email: 'orders@acme-retail.example' },
  lineItems: [
    { sku: 'WIDGET-BLUE', quantity: 3, unitPrice: 1250 },
    { sku: 'CABLE-USB-C', quantity: 10, unitPrice: 990 },
  ],
  shippingAddress: {
    name: 'Acme Retail GmbH',
    line1: 'Lagerweg 3',
    city: 'Potsdam',
    postalCode: '14467',
    country: 'DE',
  },
  paymentTerms: 'on_account',
} as const;
const wonEvent = { eventId: 'evt-1', occurredAt: '2026-11-28T10:00:00Z', deal: wonDeal };

describe('CRM webhook signature', () => {
  const body = JSON.stringify(wonEvent);
  const signature = signPayload(SECRET, NOW, body);
  const check = (over: Partial<Parameters<typeof verifySignature>[0]> = {}) =>
    verifySignature({ secret: SECRET, timestamp: String(NOW), signature, rawBody: body, nowSeconds: NOW, ...over });

  it('accepts the HMAC-SHA256 of timestamp + "." + raw body, up to 5 minutes off either way', () => {
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(check()).toEqual({ ok: true });
    expect(check({ nowSeconds: NOW + SIGNATURE_TOLERANCE_SECONDS })).toEqual({ ok: true });
    expect(check({ nowSeconds: NOW - SIGNATURE_TOLERANCE_SECONDS })).toEqual({ ok: true });
  });

  it('refuses a missing signature or timestamp', () => {
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: 'X-Signature is missing' });
    expect(check({ signature: '' })).toEqual({ ok: false, reason: 'X-Signature is missing' });
    expect(check({ timestamp: undefined })).toEqual({
      ok: false,
      reason: 'X-Timestamp is missing or not unix seconds',
    });
  });

  it('refuses a signature made with another secret, or over another body or timestamp', () => {
    const mismatch = { ok: false, reason: 'X-Signature does not match' };
    expect(check({ secret: 'another-secret' })).toEqual(mismatch);
    expect(check({ rawBody: body.replace('"quantity":3', '"quantity":30') })).toEqual(mismatch);
    expect(check({ timestamp: String(NOW + 1), nowSeconds: NOW + 1 })).toEqual(mismatch);
  });

  it('refuses a timestamp more than 5 minutes in the past or in the future', () => {
    const stale = { ok: false, reason: 'X-Timestamp is outside the allowed 5 minute window' };
    expect(check({ nowSeconds: NOW + SIGNATURE_TOLERANCE_SECONDS + 1 })).toEqual(stale);
    expect(check({ nowSeconds: NOW - SIGNATURE_TOLERANCE_SECONDS - 1 })).toEqual(stale);
  });

  it('refuses malformed headers', () => {
    const hex = signature.slice('sha256='.length);
    const malformed = { ok: false, reason: 'X-Signature is not sha256=<64 lower-case hex digits>' };
    for (const bad of [hex, `sha1=${hex}`, `sha256=${hex.toUpperCase()}`, `sha256=${hex.slice(1)}`, `${signature} `]) {
      expect(check({ signature: bad }), bad).toEqual(malformed);
    }
    for (const timestamp of ['', 'yesterday', '1.8e9', `-${NOW}`, `${NOW}.5`]) {
      expect(check({ timestamp }).ok, timestamp).toBe(false);
    }
  });
});

describe('CRM deal events', () => {
  it('reads every stage by its envelope; a won deal in full, naming each wrong field by its place in the event', () => {
    expect(
      CrmDealEvent.safeParse({
        eventId: 'e',
        occurredAt: '2026-11-28T10:00:00Z',
        deal: { id: 'd', stage: 'appointmentscheduled' },
      }).success,
    ).toBe(true);
    const parsed = CrmWonDealEvent.safeParse({
      ...wonEvent,
      deal: { ...wonDeal, currency: 'euro', lineItems: [{ sku: 'widget', quantity: 0, unitPrice: 12.5 }], company: {} },
    });
    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'deal.currency',
        'deal.company.externalId',
        'deal.lineItems.0.sku',
        'deal.lineItems.0.quantity',
        'deal.lineItems.0.unitPrice',
      ]),
    );
    expect(isWonStage(CRM_WON_STAGE)).toBe(true);
    expect(isWonStage('closedlost')).toBe(false);
    expect(isWonStage('ClosedWon')).toBe(false);
  });
});

describe('POST /webhooks/crm in the OpenAPI document', () => {
  it('describes the signed, public route with the won deal schema and every answer', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, any>> };
    const operation = doc.paths['/webhooks/crm']?.post;
    expect(operation.security).toEqual([]);
    expect(operation.parameters.map((p: { name: string; required: boolean }) => [p.name, p.required])).toEqual([
      ['X-Timestamp', true],
      ['X-Signature', true],
    ]);
    const body = operation.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['eventId', 'occurredAt', 'deal']);
    expect(body.properties.deal.required).toEqual(['id', 'stage', 'currency', 'company', 'lineItems']);
    expect(body.properties.deal.properties.paymentTerms.enum).toEqual(['card', 'on_account']);
    expect(body.properties.deal.properties.shippingAddress.properties.country.pattern).toBe('^[A-Z]{2}$');
    expect(Object.keys(operation.responses).sort()).toEqual(['202', '400', '401', '409', '422']);
  });
});

describe('deal -> order entry', () => {
  const catalog = new Map<string, Product>(DEMO_PRODUCTS.map((p) => [p.sku, p]));
  const acme = DEMO_CUSTOMERS.find((c) => c.customerId === 'CUST-1001') as Customer;

  it('maps customer, deal id, lines, currency, payment terms and shipping address', () => {
    const entry = dealEntry(CrmWonDealEvent.parse(wonEvent).deal, 'CUST-1001');
    expect(entry).toEqual({
      customerId: 'CUST-1001',
      externalReference: 'deal-4711',
      lines: [
        { sku: 'WIDGET-BLUE', quantity: 3, unitPrice: 1250 },
        { sku: 'CABLE-USB-C', quantity: 10, unitPrice: 990 },
      ],
      currency: 'EUR',
      payment: 'on_account',
      shippingAddress: wonDeal.shippingAddress,
    });
    expect(OrderEntry.parse(entry)).toEqual(entry);
    const resolved = resolveEntry(entry, acme, catalog);
    expect(resolved).toEqual({
      ok: true,
      request: {
        customerId: 'CUST-1001',
        currency: 'EUR',
        lines: entry.lines,
        shippingAddress: wonDeal.shippingAddress,
        payment: { method: 'on_account' },
      },
    });
  });

  it("leaves payment terms and address to the customer's record when the deal has none", () => {
    const { shippingAddress: _address, paymentTerms: _terms, ...bare } = wonDeal;
    const entry = dealEntry(CrmWonDealEvent.parse({ ...wonEvent, deal: bare }).deal, 'CUST-1001');
    expect(Object.keys(entry).sort()).toEqual(['currency', 'customerId', 'externalReference', 'lines']);
    const resolved = resolveEntry(entry, acme, catalog);
    expect(resolved.ok && resolved.request.shippingAddress).toEqual(acme.billingAddress);
    expect(resolved.ok && resolved.request.payment).toEqual({ method: 'on_account' });
  });

  it("names the intake's problems by the deal's fields", () => {
    const entry = dealEntry(
      CrmWonDealEvent.parse({
        ...wonEvent,
        deal: { ...wonDeal, paymentTerms: 'card', lineItems: [{ sku: 'NO-SUCH-SKU', quantity: 1, unitPrice: 100 }] },
      }).deal,
      'CUST-1001',
    );
    const resolved = resolveEntry(entry, acme, catalog);
    expect(resolved.ok).toBe(false);
    expect(dealProblems(resolved.ok ? [] : resolved.problems)).toEqual([
      { path: 'deal.paymentTerms', message: expect.stringContaining('no card on file') },
      { path: 'deal.lineItems.0.sku', message: 'product NO-SUCH-SKU is not sold' },
    ]);
    expect(
      dealProblems([
        { path: 'customerId', message: 'customer X does not exist' },
        { path: 'currency', message: 'x' },
        { path: 'shippingAddress.country', message: 'y' },
        { path: 'payment.token', message: 'z' },
        { path: 'fulfilmentPolicy', message: 'w' },
        { path: '(order)', message: 'v' },
      ]).map((p) => p.path),
    ).toEqual([
      'deal.company',
      'deal.currency',
      'deal.shippingAddress.country',
      'deal.paymentTerms',
      'deal.fulfilmentPolicy',
      'deal',
    ]);
  });
});

describe('POST /webhooks/crm handler', () => {
  type Route = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
  let crmWebhook: Route;
  const written: string[] = [];

  beforeAll(async () => {
    crmWebhook = (await import('../../functions/crm-webhook/handler.ts')).handler as unknown as Route;
  });

  beforeEach(() => {
    for (const mock of [documents, dynamo, sfn, events, secrets]) mock.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    dynamo.on(PutItemCommand).resolves({});
    dynamo.on(UpdateItemCommand).resolves({});
    dynamo.on(DeleteItemCommand).resolves({});
    dynamo.on(GetItemCommand).resolves({});
    written.length = 0;
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
  });
  afterEach(() => vi.restoreAllMocks());

  const post = (payload: unknown, timestamp = Math.floor(Date.now() / 1000)) => {
    const body = JSON.stringify(payload);
    return crmWebhook(
      checkoutHttpEvent({
        routeKey: 'POST /webhooks/crm',
        rawPath: '/webhooks/crm',
        requestContext: {} as never,
        headers: { 'x-timestamp': String(timestamp), 'x-signature': signPayload(SECRET, timestamp, body) },
        body,
      }),
      lambdaContext,
    );
  };

  it('records an ignored stage with a log line that names the event, not the company', async () => {
    const result = await post({ ...wonEvent, eventId: 'evt-ignored', deal: { ...wonDeal, stage: 'contractsent' } });
    expect(result.statusCode).toBe(202);
    expect(JSON.parse(String(result.body))).toMatchObject({ eventId: 'evt-ignored', ignored: true });
    // The event is recorded (idempotency record: in progress, then completed with the answer).
    expect(dynamo.commandCalls(PutItemCommand)).toHaveLength(1);
    expect(dynamo.commandCalls(UpdateItemCommand)).toHaveLength(1);
    const logs = written.join('\n');
    expect(logs).toContain('CRM deal event ignored');
    expect(logs).toContain('evt-ignored');
    expect(logs).toContain('contractsent');
    for (const personal of ['orders@acme-retail.example', 'Acme Retail', 'Lagerweg']) {
      expect(logs).not.toContain(personal);
    }
    expect(documents.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('refuses a stale signature with 401 before reading anything', async () => {
    const result = await post(wonEvent, Math.floor(Date.now() / 1000) - 301);
    expect(result.statusCode).toBe(401);
    expect(JSON.parse(String(result.body)).error.code).toBe('InvalidSignature');
    expect(dynamo.calls()).toHaveLength(0);
    expect(documents.calls()).toHaveLength(0);
  });

  it('answers 422 for an unknown company, forgets the event, and logs no address', async () => {
    documents.on(QueryCommand).resolves({ Items: [] });
    const result = await post({ ...wonEvent, eventId: 'evt-unknown' });
    expect(result.statusCode).toBe(422);
    const { error } = JSON.parse(String(result.body));
    expect(error.code).toBe('UnknownCompany');
    expect(error.issues.map((i: { path: string }) => i.path)).toEqual([
      'deal.company.externalId',
      'deal.company.email',
    ]);
    expect(JSON.stringify(error)).not.toContain('orders@acme-retail.example');
    // The in-progress record is deleted, so the CRM's retry (after the company was linked) goes through.
    expect(dynamo.commandCalls(DeleteItemCommand)).toHaveLength(1);
    expect(sfn.calls()).toHaveLength(0);
    expect(written.join('\n')).not.toContain('orders@acme-retail.example');
  });
});
