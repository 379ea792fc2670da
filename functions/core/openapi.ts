import * as z from 'zod/mini';
import { RESOURCE_SERVER, routeScopes, SCOPE_NAMES } from './access.ts';
import { FEEDBACK_TOKEN_TTL_SECONDS, FeedbackAnswer } from './feedback.ts';
import { KpisAnswer, MAX_KPI_WINDOW_DAYS } from './kpi-query.ts';
import { lazySchema } from './lazy-schema.ts';
import { DEFAULT_WINDOW_DAYS, MAX_DAY_WALK_DAYS } from './order-search.ts';
import {
  Allocation,
  ApprovalDecisionRequest,
  Backorder,
  CancellationKind,
  CancelOrderRequest,
  CarrierWebhook,
  CreditNote,
  CreditNoteRequest,
  CrmWonDealEvent,
  Currency,
  Customer,
  CustomerId,
  Failure,
  FulfilmentPolicy,
  Invoice,
  InvoiceStatus,
  OrderChannel,
  OrderEntrySubmission,
  OrderFeedback,
  OrderRequest,
  OrderSearchPage,
  OrderStatus,
  PaymentRequest,
  PricedLine,
  PrincipalView,
  Product,
  Shipment,
  StockAdjustmentRequest,
  StockItem,
  StockLevel,
  TaxTreatment,
  TimelineEntry,
  Totals,
} from './schemas.ts';

/**
 * The HTTP API's OpenAPI 3.1 document, generated from the zod schemas the handlers validate
 * with, so the contract cannot drift from the code.
 */
const schema = (type: z.ZodMiniType) => z.toJSONSchema(type, { target: 'draft-2020-12', unrepresentable: 'any' });
/** A request body as the client may send it: fields with defaults are optional. */
const inputSchema = (type: z.ZodMiniType) =>
  z.toJSONSchema(type, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' });

const ErrorBody = /* @__PURE__ */ lazySchema(() =>
  z.object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })),
    }),
  }),
);

const OrderView = /* @__PURE__ */ lazySchema(() =>
  z.object({
    orderId: z.string(),
    status: OrderStatus,
    /** How the order came in: web (POST /orders), crm, email, rep or import (POST /order-entries). */
    channel: OrderChannel,
    /** The channel's own reference: the CRM deal, the customer's purchase order, the import file's order reference. */
    externalReference: z.optional(z.string()),
    customerId: z.string(),
    placedBy: z.optional(PrincipalView),
    currency: z.string(),
    lines: z.array(PricedLine),
    totals: z.nullable(Totals),
    taxTreatment: z.optional(TaxTreatment),
    payment: z.object({ method: z.enum(['card', 'on_account']), status: z.optional(z.string()) }),
    shipments: z.array(z.omit(Shipment, { captureId: true, capturedAmount: true })),
    invoices: z.array(z.object({ number: z.string(), shipmentId: z.string(), total: z.number().check(z.int()) })),
    timeline: z.array(TimelineEntry),
    failure: z.optional(Failure),
    /** Who cancelled the order and why (POST /orders/{orderId}/cancel). */
    cancellation: z.optional(
      z.object({ requestedAt: z.string(), by: PrincipalView, reason: z.string(), kind: CancellationKind }),
    ),
    /** When the survey e-mail went out after delivery. */
    feedbackRequestedAt: z.optional(z.string()),
    /** The customer's survey answer (POST /feedback/{token}). */
    feedback: z.optional(z.omit(OrderFeedback, { publishedAt: true })),
    createdAt: z.string(),
    updatedAt: z.string(),
    fulfilmentPolicy: FulfilmentPolicy,
    allocations: z.array(Allocation),
    backorder: z.optional(z.omit(Backorder, { taskToken: true })),
    /** Per line: ordered = reserved + backordered + shipped + cancelled; delivered and invoiced are parts of shipped. */
    quantities: z.array(
      z.object({
        sku: z.string(),
        ordered: z.number().check(z.int()),
        reserved: z.number().check(z.int()),
        backordered: z.number().check(z.int()),
        shipped: z.number().check(z.int()),
        delivered: z.number().check(z.int()),
        invoiced: z.number().check(z.int()),
        cancelled: z.number().check(z.int()),
      }),
    ),
  }),
);

const Warehouse = /* @__PURE__ */ lazySchema(() => z.omit(StockItem, { sku: true }));
/** GET /products: stock summed over the warehouses, and per warehouse. */
const ProductWithStock = /* @__PURE__ */ lazySchema(() =>
  z.extend(Product, {
    onHand: z.number().check(z.int()),
    reserved: z.number().check(z.int()),
    available: z.number().check(z.int()),
    warehouses: z.array(Warehouse),
  }),
);
const StockAdjustment = /* @__PURE__ */ lazySchema(() =>
  z.object({
    adjustmentId: z.string(),
    sku: z.string(),
    warehouseId: z.string(),
    delta: z.number().check(z.int()),
    reason: z.string(),
    by: z.string(),
    at: z.string(),
  }),
);

const TaxSummary = /* @__PURE__ */ lazySchema(() =>
  z.array(
    z.object({
      rateBasisPoints: z.number().check(z.int()),
      net: z.number().check(z.int()),
      tax: z.number().check(z.int()),
    }),
  ),
);
const InvoiceView = /* @__PURE__ */ lazySchema(() =>
  z.extend(z.omit(Invoice, { creditedLines: true }), {
    taxSummary: TaxSummary,
    outstanding: z.number().check(z.int()),
    pdf: z.nullable(z.string()),
  }),
);
const CreditNoteView = /* @__PURE__ */ lazySchema(() =>
  z.extend(CreditNote, { taxSummary: TaxSummary, pdf: z.nullable(z.string()) }),
);
const numberParameter = [{ name: 'number', in: 'path', required: true, schema: { type: 'string' } }];
const pdf = (description: string) => ({
  description,
  content: { 'application/pdf': { schema: { type: 'string', contentMediaType: 'application/pdf' } } },
});

const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const feedbackTokenParameter = {
  name: 'token',
  in: 'path',
  required: true,
  schema: { type: 'string', description: 'The survey token of the e-mailed link: <orderId>.<expires>.<signature>' },
};
const FeedbackRecorded = /* @__PURE__ */ lazySchema(() =>
  z.extend(z.omit(OrderFeedback, { comment: true, publishedAt: true }), { orderId: z.string() }),
);

const json = (type: z.ZodMiniType, description: string) => ({
  description,
  content: { 'application/json': { schema: schema(type) } },
});
const error = (description: string) => json(ErrorBody, description);

export function openApiDocument(serverUrl = '/'): Record<string, unknown> {
  return withSecurity(contract(serverUrl));
}

/** API Gateway's own refusal body for a missing/invalid token (401) or a missing scope (403). */
const GatewayRefusal = /* @__PURE__ */ lazySchema(() => z.object({ message: z.enum(['Unauthorized', 'Forbidden']) }));

/** Each operation's access rule from functions/core/access.ts: a bearer token with one of its scopes, or none. */
type Operation = { security?: unknown; responses: Record<string, unknown> };
function withSecurity(doc: { paths: Record<string, object> } & Record<string, unknown>) {
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations as Record<string, Operation>)) {
      const scopes = routeScopes(`${method.toUpperCase()} ${path}`);
      if (scopes === 'public') {
        operation.security = [];
        continue;
      }
      operation.security = [{ bearer: scopes }];
      operation.responses = {
        ...operation.responses,
        '401': json(GatewayRefusal, 'No token, or a malformed, expired or foreign-signed one'),
        '403':
          operation.responses['403'] ?? json(GatewayRefusal, `The token has none of the scopes ${scopes.join(', ')}`),
      };
    }
  }
  return {
    ...doc,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: `An access token of the API's user pool (client-credentials grant for machines). Scopes: ${Object.keys(
            SCOPE_NAMES,
          )
            .map((name) => `${RESOURCE_SERVER}/${name}`)
            .join(', ')}`,
        },
      },
    },
  };
}

function contract(serverUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sales orders API',
      version: '1.0.0',
      description: 'Order capture, status, catalog and carrier webhook.',
    },
    servers: [{ url: serverUrl }],
    paths: {
      '/orders': {
        get: {
          summary: `Search orders, newest first, a page at a time. Without customerId or status the window is the last ${DEFAULT_WINDOW_DAYS} days up to \`to\` by default and may span at most ${MAX_DAY_WALK_DAYS} days; with either it is unbounded below by default. A customer-bound client searches its own customer's orders only`,
          parameters: [
            { name: 'customerId', in: 'query', required: false, schema: schema(CustomerId) },
            { name: 'status', in: 'query', required: false, schema: schema(OrderStatus) },
            { name: 'channel', in: 'query', required: false, schema: schema(OrderChannel) },
            {
              name: 'from',
              in: 'query',
              required: false,
              description:
                'Earliest createdAt (inclusive): a date (the start of that UTC day) or a date-time with offset',
              schema: { type: 'string' },
            },
            {
              name: 'to',
              in: 'query',
              required: false,
              description:
                'Latest createdAt (inclusive): a date (the end of that UTC day) or a date-time with offset; default now',
              schema: { type: 'string' },
            },
            {
              name: 'limit',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            },
            {
              name: 'cursor',
              in: 'query',
              required: false,
              description:
                'The nextCursor of the previous page, with the same filters. A page may hold fewer than limit orders (a read budget per page) and still have a nextCursor: follow it until it is absent',
              schema: { type: 'string' },
            },
          ],
          responses: {
            '200': json(OrderSearchPage, 'A page of order summaries'),
            '400': error(
              'A malformed or unknown parameter, a reversed or too long window, or a cursor that was altered or belongs to another search; each issue names the parameter',
            ),
            '403': error(
              'A customer-bound client asking for another customer\'s orders (without the route scope: API Gateway answers {"message":"Forbidden"})',
            ),
          },
        },
        post: {
          summary: 'Place an order (the web checkout)',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: true,
              schema: { type: 'string', minLength: 8, maxLength: 128 },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: schema(OrderRequest) } } },
          responses: {
            '202': json(
              z.object({ orderId: z.string(), status: z.literal('RECEIVED'), links: z.object({ self: z.string() }) }),
              'Accepted; the workflow runs. A repeat with the same key and body, at once or later, gets the same answer',
            ),
            '400': error('Invalid header or body, naming each field'),
            '403': error(
              'A customer-bound client ordering for another customer, or billing on account without sales/orders.on-account (without the route scope: API Gateway answers {"message":"Forbidden"})',
            ),
            '422': error('The key was used with a different body'),
          },
        },
      },
      '/order-entries': {
        post: {
          summary:
            "Enter an order for a customer (a rep's direct entry, a bulk import): currency, payment terms, ship-to and list prices default to the customer's record; card orders are charged to the card on file",
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: true,
              description:
                "Rep entry: a key generated per order and reused on retry. Import: derived from the file's order reference",
              schema: { type: 'string', minLength: 8, maxLength: 128 },
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: inputSchema(OrderEntrySubmission) } },
          },
          responses: {
            '202': json(
              z.object({ orderId: z.string(), status: z.literal('RECEIVED'), links: z.object({ self: z.string() }) }),
              'Accepted; the workflow runs',
            ),
            '400': error('Invalid header or body, naming each field'),
            '422': error(
              'Unknown customer or product, no price in the currency, no card on file (each named by field), or the key was used with a different entry',
            ),
          },
        },
      },
      '/orders/{orderId}': {
        get: {
          summary: 'Order status, totals, shipments, invoice and timeline',
          parameters: [{ name: 'orderId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': json(OrderView, 'The order'),
            '400': error('Malformed order id'),
            '404': error("Unknown order (or, for a customer-bound client, another customer's)"),
          },
        },
      },
      '/orders/{orderId}/cancel': {
        post: {
          summary:
            'Cancel an order: before anything shipped the whole order (stock released, authorization voided, credit given back, CANCELLED); after a partial shipment only what has not shipped. A booked shipment counts as shipped',
          parameters: [{ name: 'orderId', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: schema(CancelOrderRequest) } } },
          responses: {
            '202': json(
              z.object({
                orderId: z.string(),
                cancellation: z.object({
                  requestedAt: z.string(),
                  by: PrincipalView,
                  reason: z.string(),
                  kind: CancellationKind,
                }),
              }),
              'Cancellation recorded (or already recorded: the same answer); the workflow compensates',
            ),
            '400': error('Malformed order id or reason, naming the field'),
            '404': error("Unknown order (or, for a customer-bound client, another customer's)"),
            '409': error('The order already ended, or everything was handed to the carrier; the message says which'),
          },
        },
      },
      '/products': {
        get: {
          summary: 'Catalog with stock: onHand, reserved, available summed over the warehouses, and per warehouse',
          responses: { '200': json(z.array(ProductWithStock), 'Products') },
        },
      },
      '/products/{sku}/stock': {
        put: {
          summary:
            'Set the counted quantity on hand in one warehouse (default WH-BERLIN); available = onHand - reserved. Arriving stock serves backorders oldest first',
          parameters: [{ name: 'sku', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: schema(StockLevel) } } },
          responses: {
            '200': json(StockItem, 'The stock item of that warehouse'),
            '400': error('Invalid body'),
            '404': error('Unknown product or warehouse'),
            '409': error(
              'StockBelowReserved: onHand below what is reserved there (the issue names the reserved quantity)',
            ),
          },
        },
      },
      '/products/{sku}/stock/adjustments': {
        post: {
          summary:
            'Record a receipt (delta > 0) or write-off (delta < 0) in one warehouse, with who, when and why. Receipts serve backorders oldest first',
          parameters: [
            { name: 'sku', in: 'path', required: true, schema: { type: 'string' } },
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{8,128}$' },
              description: 'A retry with the same key is recorded once and answered 200 with the first adjustment',
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(StockAdjustmentRequest) } },
          },
          responses: {
            '201': json(z.object({ adjustment: StockAdjustment, stock: StockItem }), 'Recorded'),
            '200': json(
              z.object({ adjustment: StockAdjustment, stock: StockItem }),
              'Recorded before (same Idempotency-Key)',
            ),
            '400': error('Invalid body or header'),
            '404': error('Unknown product or warehouse'),
            '409': error('WriteOffExceedsAvailable: a write-off larger than what is available (not reserved) there'),
            '422': error('IdempotencyKeyReused: the key was used for a different adjustment'),
          },
        },
      },
      '/customers': {
        get: {
          summary: 'Customers',
          responses: {
            '200': json(
              z.array(
                z.pick(Customer, {
                  customerId: true,
                  name: true,
                  email: true,
                  status: true,
                  paymentTerms: true,
                  currency: true,
                  discountBasisPoints: true,
                }),
              ),
              'Customers',
            ),
          },
        },
      },
      '/invoices': {
        get: {
          summary: 'Invoices by payment status, in number order, a page at a time',
          parameters: [
            { name: 'status', in: 'query', required: true, schema: schema(InvoiceStatus) },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100 } },
            { name: 'cursor', in: 'query', required: false, schema: { type: 'string' } },
          ],
          responses: {
            '200': json(z.object({ invoices: z.array(InvoiceView), cursor: z.nullable(z.string()) }), 'A page'),
            '400': error('Invalid status, limit or cursor'),
          },
        },
      },
      '/invoices/{number}': {
        get: {
          summary: 'An invoice: legal details, lines, VAT per rate, due date, payment status',
          parameters: numberParameter,
          responses: { '200': json(InvoiceView, 'The invoice'), '404': error('Unknown invoice') },
        },
      },
      '/invoices/{number}/pdf': {
        get: {
          summary: 'The invoice PDF as issued',
          parameters: numberParameter,
          responses: { '200': pdf('The PDF'), '404': error('Unknown invoice or PDF not stored yet') },
        },
      },
      '/invoices/{number}/credit-notes': {
        post: {
          summary: 'Issue a credit note (omit lines to credit everything not credited yet); refunds card payments',
          parameters: [
            ...numberParameter,
            { name: 'Idempotency-Key', in: 'header', required: true, schema: { type: 'string' } },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: schema(CreditNoteRequest) } } },
          responses: {
            '201': json(CreditNoteView, 'The credit note'),
            '202': json(
              z.object({ requestId: z.string(), status: z.literal('pending') }),
              'Recorded; its number is on its way (retry with the same key, or the sweep finishes it)',
            ),
            '400': error('Invalid body, or no Idempotency-Key header'),
            '404': error('Unknown invoice'),
            '422': error('More than may be credited, an SKU not on the invoice, or the key reused with another body'),
          },
        },
      },
      '/invoices/{number}/payments': {
        post: {
          summary: 'Record a payment on account (once per reference)',
          parameters: numberParameter,
          requestBody: { required: true, content: { 'application/json': { schema: schema(PaymentRequest) } } },
          responses: {
            '201': json(z.object({ invoice: InvoiceView, payment: PaymentRequest }), 'Recorded'),
            '200': json(z.object({ invoice: InvoiceView, payment: PaymentRequest }), 'Already recorded (replay)'),
            '400': error('Invalid body'),
            '404': error('Unknown invoice'),
            '409': error('Card-paid or settled invoice, or the reference was used with another amount'),
            '422': error('More than outstanding'),
          },
        },
      },
      '/credit-notes/{number}': {
        get: {
          summary: 'A credit note',
          parameters: numberParameter,
          responses: { '200': json(CreditNoteView, 'The credit note'), '404': error('Unknown credit note') },
        },
      },
      '/credit-notes/{number}/pdf': {
        get: {
          summary: 'The credit note PDF as issued',
          parameters: numberParameter,
          responses: { '200': pdf('The PDF'), '404': error('Unknown credit note or PDF not stored yet') },
        },
      },
      '/kpis': {
        get: {
          summary: `KPIs of the orders placed from \`from\` to \`to\` (UTC days, inclusive, at most ${MAX_KPI_WINDOW_DAYS} days) and the survey answers given then; definitions in the README (KPIs)`,
          parameters: [
            { name: 'from', in: 'query', required: true, schema: { type: 'string', format: 'date' } },
            { name: 'to', in: 'query', required: true, schema: { type: 'string', format: 'date' } },
            {
              name: 'currency',
              in: 'query',
              required: false,
              description: 'Narrows revenue and average order value to this currency',
              schema: schema(Currency),
            },
          ],
          responses: {
            '200': json(KpisAnswer, 'The KPIs of the window'),
            '400': error('A date that is not an ISO date, to before from, a window too long, or a bad currency'),
          },
        },
      },
      '/approvals/{approvalId}': {
        post: {
          summary:
            "An approver's decision on an order waiting in AwaitApproval; the signature is the e-mailed link's `signature` query parameter, sent in the body",
          parameters: [{ name: 'approvalId', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(ApprovalDecisionRequest) } },
          },
          responses: {
            '200': json(
              z.object({
                approvalId: z.string(),
                orderId: z.string(),
                status: z.enum(['APPROVED', 'REJECTED']),
                decidedBy: z.string(),
              }),
              'Decision recorded; the order goes on (approved) or is rejected',
            ),
            '400': error('Malformed approval id or body, naming each field'),
            '403': error('The signature is not the one of this approval'),
            '404': error('Unknown approval'),
            '409': error('Already decided: a decision link works once'),
            '410': error('Expired, or the order no longer waits for a decision'),
          },
        },
      },
      '/webhooks/carrier': {
        post: {
          summary: 'Carrier status events, signed with HMAC-SHA256',
          parameters: [
            {
              name: 'X-Timestamp',
              in: 'header',
              required: true,
              schema: { type: 'string', description: 'unix seconds' },
            },
            {
              name: 'X-Signature',
              in: 'header',
              required: true,
              schema: { type: 'string', description: 'sha256=<hex HMAC-SHA256(secret, timestamp + "." + rawBody)>' },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: schema(CarrierWebhook) } } },
          responses: {
            '202': json(z.object({ trackingNumber: z.string(), status: z.string() }), 'Applied'),
            '200': json(
              z.object({ trackingNumber: z.string(), status: z.string(), note: z.string() }),
              'Accepted, order already closed',
            ),
            '400': error('Invalid body'),
            '401': error('Bad or stale signature'),
            '404': error('Unknown tracking number'),
          },
        },
      },
      '/webhooks/crm': {
        post: {
          summary:
            "A CRM's deal event (HubSpot, Salesforce), signed with HMAC-SHA256. A deal in stage closedwon becomes an order for the company's customer (by CRM company id, else ordering e-mail), placed by client crm with the deal id as external reference; other stages are acknowledged and ignored (they need only eventId, occurredAt, deal.id and deal.stage). One answer per eventId",
          parameters: [
            {
              name: 'X-Timestamp',
              in: 'header',
              required: true,
              schema: { type: 'string', description: 'unix seconds, at most 5 minutes off' },
            },
            {
              name: 'X-Signature',
              in: 'header',
              required: true,
              schema: {
                type: 'string',
                description: 'sha256=<hex HMAC-SHA256(CRM webhook secret, timestamp + "." + rawBody)>',
              },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: schema(CrmWonDealEvent) } } },
          responses: {
            '202': json(
              z.union([
                z.object({ eventId: z.string(), orderId: z.string(), status: z.literal('RECEIVED') }),
                z.object({ eventId: z.string(), ignored: z.literal(true), reason: z.string() }),
              ]),
              'The won deal captured as an order (the workflow runs), or the event ignored; a repeat of the event answers the same',
            ),
            '400': error('Invalid JSON or body, naming each field'),
            '401': error('Missing, malformed, wrong or stale (more than 5 minutes off) signature'),
            '409': error('The same eventId is still being handled; retry shortly'),
            '422': error(
              'UnknownCompany (no customer has the CRM company id or e-mail), InvalidOrder (products, prices, payment terms, named by deal field), or IdempotencyKeyReused (the eventId came with another body)',
            ),
          },
        },
      },
      '/feedback/{token}': {
        get: {
          summary: `The survey page of an e-mailed link (HTML): the score preselected, an optional comment and a button that POSTs the answer. Records nothing (mail scanners open links). The token is the authorization; it works ${FEEDBACK_TOKEN_TTL_SECONDS / 86_400} days from the e-mail`,
          parameters: [
            feedbackTokenParameter,
            {
              name: 'score',
              in: 'query',
              required: false,
              schema: { type: 'string', pattern: '^(10|[0-9])$', description: 'The score to preselect, 0-10' },
            },
          ],
          responses: {
            '200': html('The survey form'),
            '400': html('score is not a whole number from 0 to 10'),
            '401': html('Malformed token, or not signed by us'),
            '404': html('The order no longer exists'),
            '409': html('The order already has an answer'),
            '410': html('The link has expired'),
          },
        },
        post: {
          summary:
            "The customer's answer, once per order: recorded on the order (GET /orders/{orderId} `feedback`) and published as FeedbackReceived (score and group, never the comment). The same answer again after a request that failed half-way answers 200 and publishes then",
          parameters: [feedbackTokenParameter],
          requestBody: { required: true, content: { 'application/json': { schema: inputSchema(FeedbackAnswer) } } },
          responses: {
            '201': json(FeedbackRecorded, 'Recorded'),
            '200': json(
              FeedbackRecorded,
              'The same answer again, recorded before but not yet published: published now',
            ),
            '400': error('Invalid JSON or body, naming each field (score 0-10, comment at most 1000 characters)'),
            '401': error('Malformed token, or not signed by us (InvalidFeedbackToken)'),
            '404': error('The order no longer exists'),
            '409': error('The order already has an answer (FeedbackAlreadyGiven)'),
            '410': error('The link has expired (FeedbackLinkExpired)'),
          },
        },
      },
      '/health': {
        get: {
          summary: 'Dependencies answer',
          responses: { '200': { description: 'All dependencies answer' }, '503': { description: 'Some do not' } },
        },
      },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } } },
    },
  };
}
