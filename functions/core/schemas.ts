// A namespace import: esbuild then bundles the parts of zod in use; `import { z }` pulls in all of it (every locale).
import * as z from 'zod/mini';
import { lazySchema } from './lazy-schema.ts';
import { maxLinesFor } from './warehouses.ts';

/**
 * The single source of the domain's data types. Everything else infers from here
 * (`z.infer`), and the HTTP API's validation and OpenAPI document come from these too.
 * Money is always integer minor units (cents) with its currency beside it.
 */

/**
 * Control characters (C0 incl. TAB/CR/LF/NUL, DEL, C1, and the Unicode line/paragraph separators)
 * are refused in anything a person typed: they would split e-mail headers, forge log lines or
 * corrupt the invoice PDF. One refinement, applied wherever free text enters.
 */
export function hasControlCharacters(value: string): boolean {
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}
export const CONTROL_CHARACTERS_MESSAGE = 'must not contain control characters (line breaks, tabs, NUL)';
/** A string without control characters; checked before any trimming, so a trailing line break is refused too. */
export const plainText = () =>
  z.string().check(z.refine((value) => !hasControlCharacters(value), CONTROL_CHARACTERS_MESSAGE));

export const Currency = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR')),
);
export const MinorUnits = /* @__PURE__ */ lazySchema(() =>
  z.number().check(z.int('must be an integer amount in minor units (cents)'), z.nonnegative()),
);
export const Sku = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, 'must be 2-40 upper-case letters, digits or dashes')),
);
export const CustomerId = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -')),
);
/** An order id's form (see core/ids.ts orderIdFor); tested without zod where only a match is wanted. */
export const ORDER_ID_PATTERN = /^ord-[0-9a-z]{26}$/;
export const OrderId = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(ORDER_ID_PATTERN, 'is not an order id')),
);
export const CountryCode = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as DE')),
);
export const Timestamp = /* @__PURE__ */ lazySchema(() => z.iso.datetime({ offset: true }));

const text = (max: number) =>
  plainText().check(z.trim(), z.minLength(1, 'is required'), z.maxLength(max, `must be at most ${max} characters`));

export const Address = /* @__PURE__ */ lazySchema(() =>
  z.object({
    name: text(100),
    line1: text(200),
    line2: z.optional(plainText().check(z.trim(), z.maxLength(200, 'must be at most 200 characters'))),
    city: text(100),
    postalCode: text(20),
    country: CountryCode,
  }),
);

export const Payment = /* @__PURE__ */ lazySchema(() =>
  z.discriminatedUnion('method', [
    z.object({ method: z.literal('card'), token: plainText().check(z.minLength(1, 'is required'), z.maxLength(200)) }),
    z.object({ method: z.literal('on_account') }),
  ]),
);

export const OrderLineRequest = /* @__PURE__ */ lazySchema(() =>
  z.object({
    sku: Sku,
    quantity: z.number().check(z.int('must be a whole number'), z.positive('must be at least 1'), z.lte(10_000)),
    unitPrice: MinorUnits,
  }),
);

/**
 * all_or_nothing: every line is reserved in full or the order is rejected (OutOfStock).
 * ship_available: what is in stock is reserved and shipped, the rest is backordered.
 */
export const FulfilmentPolicy = /* @__PURE__ */ lazySchema(() => z.enum(['all_or_nothing', 'ship_available']));

/**
 * The roads an order comes in by: `web` (POST /orders: web checkout, buyer clients), `crm` (a won deal's
 * signed webhook), `email` (a purchase order e-mailed to the order inbox), `rep` (a sales rep's direct
 * entry), `import` (a bulk CSV import). All go through the one intake (functions/lib/intake.ts).
 */
export const OrderChannel = /* @__PURE__ */ lazySchema(() => z.enum(['web', 'crm', 'email', 'rep', 'import']));

/** What every capture channel (web checkout, CRM, e-mail, rep, import) is normalised to. */
export const OrderRequest = /* @__PURE__ */ lazySchema(() =>
  z
    .object({
      customerId: CustomerId,
      currency: Currency,
      // A reservation is one DynamoDB transaction of at most 100 items: see maxLinesFor (core/warehouses.ts).
      lines: z
        .array(OrderLineRequest)
        .check(z.minLength(1, 'must contain at least one line'), z.maxLength(50, 'must contain at most 50 lines')),
      shippingAddress: Address,
      payment: Payment,
      /** Absent: all_or_nothing. */
      fulfilmentPolicy: z.optional(FulfilmentPolicy),
    })
    .check(
      z.superRefine((request, ctx) => {
        const seen = new Set<string>();
        request.lines.forEach((line, index) => {
          if (seen.has(line.sku)) {
            ctx.addIssue({
              code: 'custom',
              path: ['lines', index, 'sku'],
              message: 'appears more than once; combine the lines',
            });
          }
          seen.add(line.sku);
        });
        // Lines may be split over the warehouses (and backordered): the reservation must still fit one transaction.
        const policy = request.fulfilmentPolicy ?? 'all_or_nothing';
        const max = maxLinesFor(policy);
        if (request.lines.length > max)
          ctx.addIssue({
            code: 'custom',
            path: ['lines'],
            message: `must contain at most ${max} lines with fulfilmentPolicy ${policy} (the stock is reserved in one transaction)`,
          });
      }),
    ),
);

/** An order reference from outside: a CRM deal id, a purchase-order number, an import file's order reference. */
export const ExternalReference = /* @__PURE__ */ lazySchema(() =>
  plainText().check(z.trim(), z.minLength(1, 'is required'), z.maxLength(100, 'must be at most 100 characters')),
);

/**
 * An order as the CRM, e-mail, rep entry and import channels carry it, before the intake fills in what
 * the customer's record says (functions/core/order-entry.ts): unit prices from the price list, the
 * customer's currency, billing address and payment terms. Card orders are charged to the customer's
 * card on file. Resolved, it is validated as an OrderRequest like every other order.
 */
export const OrderEntry = /* @__PURE__ */ lazySchema(() =>
  z.object({
    customerId: CustomerId,
    externalReference: z.optional(ExternalReference),
    lines: z
      .array(z.extend(OrderLineRequest, { unitPrice: z.optional(MinorUnits) }))
      .check(z.minLength(1, 'must contain at least one line'), z.maxLength(50, 'must contain at most 50 lines')),
    /** Absent: the customer's currency. */
    currency: z.optional(Currency),
    /** Absent: the customer's payment terms. */
    payment: z.optional(z.enum(['card', 'on_account'])),
    /** Absent: the customer's billing address. */
    shippingAddress: z.optional(Address),
    fulfilmentPolicy: z.optional(FulfilmentPolicy),
  }),
);

/**
 * The key a client sends in the `Idempotency-Key` header (POST /orders, POST /order-entries): the
 * same key with the same body is the same order.
 */
export const IdempotencyKey = /* @__PURE__ */ lazySchema(() =>
  z
    .string({ error: 'is required: send a unique key per order, e.g. a UUID' })
    .check(z.regex(/^[A-Za-z0-9_.:-]{8,128}$/, 'must be 8-128 letters, digits or _ . : -')),
);

/** The channels an order entry is posted for (POST /order-entries): a rep's direct entry, a bulk import. */
export const EntryChannel = /* @__PURE__ */ lazySchema(() =>
  z.enum(['rep', 'import'] as const satisfies readonly z.infer<typeof OrderChannel>[]),
);

/**
 * POST /order-entries: an order entry and the channel it came by (absent: `rep`). An imported order
 * carries the import file's order reference as its externalReference.
 */
export const OrderEntrySubmission = /* @__PURE__ */ lazySchema(() =>
  z.extend(OrderEntry, { channel: z._default(EntryChannel, 'rep') }).check(
    z.superRefine((submission, ctx) => {
      if (submission.channel === 'import' && submission.externalReference === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['externalReference'],
          message: "is required for channel import: the import file's order reference",
        });
    }),
  ),
);

export const OrderStatus = /* @__PURE__ */ lazySchema(() =>
  z.enum([
    'RECEIVED',
    'VALIDATED',
    /** Waiting for stock for some or all lines (ship_available); what was in stock is reserved. */
    'BACKORDERED',
    'RESERVED',
    'PAYMENT_AUTHORIZED',
    'SHIPPED',
    'DELIVERED',
    'PAYMENT_CAPTURED',
    'INVOICED',
    'COMPLETED',
    'REJECTED',
    'CANCELLED',
    'FAILED',
  ]),
);
export const TERMINAL_STATUSES = ['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED'] as const;

export const TaxCategory = /* @__PURE__ */ lazySchema(() => z.enum(['standard', 'reduced', 'zero']));
export const BasisPoints = /* @__PURE__ */ lazySchema(() => z.number().check(z.int(), z.gte(0), z.lte(10_000)));

/**
 * How VAT applies to an order (see core/tax.ts): `domestic` (shipped within Germany), `intra_eu_b2c`
 * (another EU country, no VAT id: destination rate), `reverse_charge` (EU business with a VAT id of
 * another member state), `export` (outside the EU, zero-rated), `exempt` (tax-exempt customer).
 */
export const TaxTreatment = /* @__PURE__ */ lazySchema(() =>
  z.enum(['domestic', 'intra_eu_b2c', 'reverse_charge', 'export', 'exempt']),
);

/**
 * A line priced from the list: `unitPrice` is the list price, `lineDiscount` the customer's discount on
 * the line (rounded half up), `lineSubtotal` the net after discount. `lineTax` is informative only: the
 * order's tax is computed per rate on the sum of the nets (Totals.taxByRate).
 */
export const PricedLine = /* @__PURE__ */ lazySchema(() =>
  z.object({
    sku: Sku,
    name: z.string(),
    quantity: z.number().check(z.int(), z.positive()),
    unitPrice: MinorUnits,
    taxCategory: TaxCategory,
    taxRateBasisPoints: BasisPoints,
    discountBasisPoints: BasisPoints,
    lineDiscount: MinorUnits,
    lineSubtotal: MinorUnits,
    lineTax: MinorUnits,
  }),
);

export const TaxByRate = /* @__PURE__ */ lazySchema(() =>
  z.object({ rateBasisPoints: BasisPoints, net: MinorUnits, tax: MinorUnits }),
);

/** subtotal: net after discount; discount: the sum of line discounts; total = subtotal + tax. */
export const Totals = /* @__PURE__ */ lazySchema(() =>
  z.object({
    subtotal: MinorUnits,
    discount: MinorUnits,
    tax: MinorUnits,
    total: MinorUnits,
    taxByRate: z.array(TaxByRate),
  }),
);

/**
 * BOOKING: recorded before the carrier is asked (no tracking number yet), so compensation cancels a
 * booking whose answer was never recorded; CREATED: booked, with its tracking number.
 */
export const ShipmentStatus = /* @__PURE__ */ lazySchema(() =>
  z.enum(['BOOKING', 'CREATED', 'IN_TRANSIT', 'DELIVERED', 'LOST', 'CANCELLED']),
);
/** What an allocation or a shipment carries: a quantity of a SKU. */
export const StockLine = /* @__PURE__ */ lazySchema(() =>
  z.object({ sku: Sku, quantity: z.number().check(z.int(), z.positive()) }),
);

export const Shipment = /* @__PURE__ */ lazySchema(() =>
  z.object({
    shipmentId: z.string(),
    carrier: z.string(),
    trackingNumber: z.optional(z.string()),
    status: ShipmentStatus,
    /** The allocation this shipment carries (one shipment per allocation), from that warehouse. */
    allocationId: z.string(),
    warehouseId: z.string(),
    lines: z.array(StockLine),
    /** The invoice issued for this shipment. */
    invoiceNumber: z.optional(z.string()),
    /** Card orders: the partial capture of this shipment's gross amount at dispatch. */
    captureId: z.optional(z.string()),
    capturedAmount: z.optional(MinorUnits),
    /**
     * When each of this shipment's facts happened, written once: its events (OrderShipped,
     * OrderPaymentCaptured, OrderInvoiced) carry these, so a republished one is the same event.
     * `shippedAt` is when the carrier booked it (CREATED); the delivery SLA times the parcel from there.
     */
    shippedAt: z.optional(Timestamp),
    capturedAt: z.optional(Timestamp),
    invoicedAt: z.optional(Timestamp),
    /** When the carrier reported it delivered (the first DELIVERED webhook's time). */
    deliveredAt: z.optional(Timestamp),
  }),
);

/**
 * PENDING: an authorization was asked for and its answer is not recorded yet, so one may exist at the
 * provider (compensation voids it by its idempotency key).
 */
export const PaymentStatus = /* @__PURE__ */ lazySchema(() =>
  z.enum(['PENDING', 'AUTHORIZED', 'CAPTURED', 'VOIDED', 'ON_ACCOUNT']),
);
export const PaymentRecord = /* @__PURE__ */ lazySchema(() =>
  z.object({
    method: z.enum(['card', 'on_account']),
    status: PaymentStatus,
    authorizationId: z.optional(z.string()),
    /** The provider's idempotency key of the authorization (order id + operation): void and capture name it. */
    idempotencyKey: z.optional(z.string()),
    amount: MinorUnits,
    /** Captured so far (one partial capture per shipment); never more than `amount`. */
    captured: z.optional(MinorUnits),
  }),
);

/** An invoice as the order lists it (one per shipment). */
export const OrderInvoice = /* @__PURE__ */ lazySchema(() =>
  z.object({
    number: z.string(),
    shipmentId: z.string(),
    total: MinorUnits,
    pdfKey: z.string(),
  }),
);

export const Failure = /* @__PURE__ */ lazySchema(() =>
  z.object({
    code: z.string(),
    message: z.string(),
    /** Compensation steps that did not succeed (payment, shipment, stock, credit): left for ops to settle. */
    compensationFailed: z.optional(z.array(z.string())),
    /**
     * What the customer is owed after the order ended past the point of no return (payment captured or
     * goods gone): `invoice` (paid or shipped, not invoiced), `payment` (shipped, not paid). Alarmed.
     */
    missing: z.optional(z.array(z.enum(['payment', 'invoice']))),
  }),
);

/** Who placed an order or changed something: an API app client or a signed-in person. */
export const Principal = /* @__PURE__ */ lazySchema(() =>
  z.object({
    kind: z.enum(['client', 'user']),
    id: z.string().check(z.minLength(1), z.maxLength(128)),
    /** A person's role (user-pool group) when they acted. */
    role: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  }),
);

/**
 * A principal as a caller may see it: staff see everyone's id; machine clients see a person only
 * by kind and role, since a username may be a name or an e-mail address.
 */
export const PrincipalView = /* @__PURE__ */ lazySchema(() => z.partial(Principal, { id: true }));

/**
 * `by` names the principal where a caller did it, not the workflow: `client:<id>` or
 * `user:<name>`, or to machine clients `user` / `user (<role>)`.
 */
export const TimelineEntry = /* @__PURE__ */ lazySchema(() =>
  z.object({
    at: Timestamp,
    type: z.string(),
    by: z.optional(z.string()),
    /** An approver's comment on their decision (ApprovalGranted / ApprovalRejected). */
    comment: z.optional(z.string()),
    /** Why the order was cancelled (OrderCancellationRequested / OrderCancelled). */
    reason: z.optional(z.string()),
  }),
);

/** Why an order waits for an approver: over the customer's remaining credit, or above the high-value threshold. */
export const ApprovalReason = /* @__PURE__ */ lazySchema(() => z.enum(['credit_limit', 'high_value']));
/** ValidateOrder's verdict, carried by the execution to the NeedsApproval choice and AwaitApproval. */
export const ApprovalNeed = /* @__PURE__ */ lazySchema(() =>
  z.object({ required: z.boolean(), reasons: z.array(ApprovalReason) }),
);
export const ApprovalStatus = /* @__PURE__ */ lazySchema(() => z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED']));

/** The approval as the order carries it, for its timeline: who decided, and their comment. */
export const OrderApproval = /* @__PURE__ */ lazySchema(() =>
  z.object({
    approvalId: z.string(),
    reasons: z.array(ApprovalReason),
    decision: z.optional(z.enum(['approve', 'reject'])),
    decidedBy: z.optional(Principal),
    comment: z.optional(z.string()),
  }),
);

/** Stock reserved for the order in one warehouse: append-only, each becomes exactly one shipment. */
export const Allocation = /* @__PURE__ */ lazySchema(() =>
  z.object({
    allocationId: z.string().check(z.regex(/^A[1-9][0-9]*$/)),
    warehouseId: z.string(),
    lines: z.array(StockLine),
    at: Timestamp,
  }),
);

/**
 * What is waiting for stock (ship_available). Served oldest first when stock arrives; `lines` shrinks
 * as it is served (empty: filled or cancelled). At `expiresAt` the rest is cancelled (`cancelledLines`).
 */
export const Backorder = /* @__PURE__ */ lazySchema(() =>
  z.object({
    lines: z.array(StockLine),
    since: Timestamp,
    expiresAt: Timestamp,
    cancelledLines: z.optional(z.array(StockLine)),
    /** The workflow's AwaitBackorder task token, resumed when the backorder is filled. */
    taskToken: z.optional(z.string()),
  }),
);

/**
 * whole: nothing has left, the order ends CANCELLED; remainder: something left with the carrier, only
 * what did not (unshipped allocations, the backorder) is cancelled and the order completes with the rest.
 */
export const CancellationKind = /* @__PURE__ */ lazySchema(() => z.enum(['whole', 'remainder']));

/** POST /orders/{orderId}/cancel */
export const CancelOrderRequest = /* @__PURE__ */ lazySchema(() =>
  z.object({
    reason: plainText().check(
      z.trim(),
      z.minLength(1, 'is required'),
      z.maxLength(500, 'must be at most 500 characters'),
    ),
  }),
);

/** A cancellation as recorded on the order (once): the fence every forward step checks. */
export const Cancellation = /* @__PURE__ */ lazySchema(() =>
  z.object({
    requestedAt: Timestamp,
    by: Principal,
    reason: z.string(),
    kind: CancellationKind,
  }),
);

/** An NPS score: how likely the customer is to recommend us, 0 (not at all) to 10 (extremely). */
export const NpsScore = /* @__PURE__ */ lazySchema(() =>
  z
    .number({ error: 'must be a whole number from 0 to 10' })
    .check(
      z.int('must be a whole number from 0 to 10'),
      z.gte(0, 'must be a whole number from 0 to 10'),
      z.lte(10, 'must be a whole number from 0 to 10'),
    ),
);

/**
 * The customer's answer to the survey after delivery (core/feedback.ts), kept on the order once:
 * `publishedAt` is set when its FeedbackReceived event went out.
 */
export const OrderFeedback = /* @__PURE__ */ lazySchema(() =>
  z.object({
    score: NpsScore,
    group: z.enum(['promoter', 'passive', 'detractor']),
    comment: z.optional(z.string()),
    answeredAt: Timestamp,
    publishedAt: z.optional(Timestamp),
  }),
);
export type OrderFeedback = z.infer<typeof OrderFeedback>;

export const Order = /* @__PURE__ */ lazySchema(() =>
  z.object({
    orderId: OrderId,
    status: OrderStatus,
    channel: OrderChannel,
    /** The channel's own reference: the CRM deal id, the customer's purchase-order reference, the import file's order reference. */
    externalReference: z.optional(z.string()),
    /**
     * The intake's hash of what was submitted under the order's key (the order id is derived from the key
     * alone): a different submission under the same key finds this order and is refused, however late.
     */
    submissionHash: z.optional(z.string()),
    /** Who captured it (absent on orders captured before callers were recorded). */
    placedBy: z.optional(Principal),
    customerId: CustomerId,
    currency: Currency,
    requestedLines: z.array(OrderLineRequest),
    lines: z.optional(z.array(PricedLine)),
    totals: z.optional(Totals),
    /** Set with the prices when the order is validated. */
    taxTreatment: z.optional(TaxTreatment),
    shippingAddress: Address,
    payment: Payment,
    /** Absent on orders captured before the policy existed: all_or_nothing. */
    fulfilmentPolicy: z.optional(FulfilmentPolicy),
    paymentRecord: z.optional(PaymentRecord),
    /** Where the reserved stock is held, one allocation per warehouse; each becomes one shipment. */
    allocations: z.optional(z.array(Allocation)),
    backorder: z.optional(Backorder),
    /** Kept as items of their own (one per shipment) and joined in on read. */
    shipments: z.array(Shipment),
    /** One invoice per shipment, in the order they were issued. */
    invoices: z.optional(z.array(OrderInvoice)),
    failure: z.optional(Failure),
    /**
     * A completed order whose compensation step did not succeed (`payment`: the rest of the card
     * authorization could not be voided): left for operations to settle, alarmed (CompensationFailed).
     */
    compensationFailed: z.optional(z.array(z.string())),
    /** When its first shipment was booked (set with the booking's intent): a whole-order cancellation is refused from then on. */
    bookedAt: z.optional(Timestamp),
    /** Set when the order waited for an approver (AwaitApproval); the record itself is in the approvals table. */
    approval: z.optional(OrderApproval),
    /**
     * Set (once) when the reconciler starts compensating an interrupted order: from then on, forward
     * steps still running refuse to act (no authorization, no booking), so nothing is re-created.
     */
    closing: z.optional(Timestamp),
    /**
     * Set (once) when someone cancels the order: from then on no forward step acts (reservation,
     * authorization, booking, approval decision, backorder fill) and the workflow compensates.
     */
    cancellation: z.optional(Cancellation),
    /** When the survey e-mail went out after delivery (functions/request-feedback), once. */
    feedbackRequestedAt: z.optional(Timestamp),
    /** The customer's survey answer (POST /feedback/{token}), written once. */
    feedback: z.optional(OrderFeedback),
    /** When each stage was first recorded; the timeline is derived from it, so a retried stage is recorded once. */
    stages: z.record(z.string(), Timestamp),
    /**
     * The delivery date promised to the customer (a UTC day), set by ValidateOrder: the day the order
     * was placed plus the standard lead time (STANDARD_LEAD_TIME_DAYS). The on-time delivery rate is over it.
     */
    promisedDeliveryDate: z.optional(z.iso.date()),
    /** When the order was delivered: the last of its shipments' delivery times, set once with OrderDelivered. */
    deliveredAt: z.optional(Timestamp),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  }),
);

/**
 * GET /orders: one order as the search lists it (from the search indexes' projection). `total` is the
 * gross total once the order is priced (validated), null before.
 */
export const OrderSummary = /* @__PURE__ */ lazySchema(() =>
  z.object({
    orderId: OrderId,
    status: OrderStatus,
    customerId: CustomerId,
    channel: OrderChannel,
    externalReference: z.optional(z.string()),
    currency: Currency,
    total: z.nullable(MinorUnits),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  }),
);

/** A UTC day (`2026-03-01`) or an instant with its offset (`2026-03-01T09:30:00Z`, `…+01:00`). */
const DayOrInstant = /* @__PURE__ */ lazySchema(() =>
  z
    .string()
    .check(
      z.refine(
        (value) => z.iso.date().safeParse(value).success || Timestamp.safeParse(value).success,
        'must be an ISO date (2026-03-01, a UTC day) or date-time with offset (2026-03-01T09:30:00Z)',
      ),
    ),
);

export const ORDER_SEARCH_PARAMETERS = ['customerId', 'status', 'channel', 'from', 'to', 'limit', 'cursor'] as const;

/**
 * GET /orders query. `from`/`to` bound `createdAt` inclusively (a date `from` is the day's start, a date `to`
 * its end, both UTC); the defaults and limits of the window are in core/order-search.ts. An unknown
 * parameter is refused rather than ignored: a misspelt filter would otherwise widen the search silently.
 */
export const OrderSearchQuery = /* @__PURE__ */ lazySchema(() =>
  z
    .looseObject({
      customerId: z.optional(CustomerId),
      status: z.optional(OrderStatus),
      channel: z.optional(OrderChannel),
      from: z.optional(DayOrInstant),
      to: z.optional(DayOrInstant),
      limit: z._default(
        z.coerce
          .number({ error: 'must be a whole number from 1 to 100' })
          .check(
            z.int('must be a whole number from 1 to 100'),
            z.gte(1, 'must be at least 1'),
            z.lte(100, 'must be at most 100'),
          ),
        20,
      ),
      cursor: z.optional(
        z
          .string()
          .check(
            z.maxLength(1024, 'is not a cursor this API gave out'),
            z.regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor this API gave out'),
          ),
      ),
    })
    .check(
      z.superRefine((query, ctx) => {
        for (const key of Object.keys(query)) {
          if (!(ORDER_SEARCH_PARAMETERS as readonly string[]).includes(key))
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `is not a search parameter (${ORDER_SEARCH_PARAMETERS.join(', ')})`,
            });
        }
      }),
    ),
);

/** GET /orders answer: newest first; `nextCursor` (opaque) continues the same search, absent at its end. */
export const OrderSearchPage = /* @__PURE__ */ lazySchema(() =>
  z.object({ orders: z.array(OrderSummary), nextCursor: z.optional(z.string()) }),
);

export const CustomerStatus = /* @__PURE__ */ lazySchema(() => z.enum(['active', 'blocked']));

/** `card`: every order is paid by card; `on_account`: invoiced, due `netDays` after the invoice. */
export const PaymentTerms = /* @__PURE__ */ lazySchema(() =>
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('card') }),
    z.object({ type: z.literal('on_account'), netDays: z.number().check(z.int(), z.positive(), z.lte(365)) }),
  ]),
);

/** A VAT id as issued: a two-letter country prefix (EL for Greece) and 2-20 further characters. */
export const VatId = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^[A-Z]{2}[0-9A-Za-z+*.\- ]{2,20}$/, 'must be a VAT id such as DE123456789')),
);

export const TaxProfile = /* @__PURE__ */ lazySchema(() =>
  z.object({
    /** Where the customer is established. */
    country: CountryCode,
    vatId: z.optional(VatId),
    /** Tax-exempt customer (e.g. a diplomatic mission or a charity with an exemption certificate). */
    exempt: z.boolean(),
  }),
);

export const Customer = /* @__PURE__ */ lazySchema(() =>
  z.object({
    customerId: CustomerId,
    name: plainText(),
    email: z.email(),
    /** Where invoices go. */
    billingEmail: z.email(),
    status: CustomerStatus,
    paymentTerms: PaymentTerms,
    /** Credit for on-account orders, in the customer's currency. */
    creditLimit: MinorUnits,
    /** Invoiced on account and not yet paid. */
    openBalance: MinorUnits,
    /** Credit in use: unpaid on-account invoices plus the holds of on-account orders in progress. */
    creditUsed: MinorUnits,
    currency: Currency,
    /** Discount on every line, in basis points (500 = 5 %). */
    discountBasisPoints: BasisPoints,
    taxProfile: TaxProfile,
    billingAddress: Address,
    /** The company's id in the CRM: a won deal's company maps to the customer by it (then by `email`). */
    crmCompanyId: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
    /**
     * The payment provider's reusable token for the customer's stored card (never a card number): what
     * card orders from the CRM, e-mail, rep entry and import are charged to, as they carry no card.
     */
    cardOnFile: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  }),
);

/** The price list: one price per currency the product is sold in, in that currency's minor units. */
export const Product = /* @__PURE__ */ lazySchema(() =>
  z.object({
    sku: Sku,
    name: z.string(),
    taxCategory: TaxCategory,
    prices: z.record(Currency, MinorUnits),
    active: z.boolean(),
  }),
);

const StockQuantity = /* @__PURE__ */ lazySchema(() =>
  z.number().check(z.int('must be a whole number'), z.nonnegative()),
);
/** One product in one warehouse (stock table). Invariant: available = onHand - reserved. */
export const StockItem = /* @__PURE__ */ lazySchema(() =>
  z.object({
    sku: Sku,
    warehouseId: z.string(),
    onHand: StockQuantity,
    reserved: StockQuantity,
    available: StockQuantity,
  }),
);

const WarehouseRef = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^WH-[A-Z0-9-]{1,36}$/, 'is not a warehouse id')),
);
/** PUT /products/{sku}/stock: the counted quantity on hand (the warehouse/ERP sync point). */
export const StockLevel = /* @__PURE__ */ lazySchema(() =>
  z.object({
    onHand: StockQuantity.check(z.lte(1_000_000_000)),
    warehouseId: z.optional(WarehouseRef),
  }),
);

/** POST /products/{sku}/stock/adjustments: a receipt (delta > 0) or a write-off (delta < 0). */
export const StockAdjustmentRequest = /* @__PURE__ */ lazySchema(() =>
  z.object({
    delta: z.number().check(
      z.int('must be a whole number'),
      z.gte(-1_000_000_000),
      z.lte(1_000_000_000),
      z.refine((d) => d !== 0, 'must not be 0'),
    ),
    reason: plainText().check(
      z.trim(),
      z.minLength(1, 'is required'),
      z.maxLength(200, 'must be at most 200 characters'),
    ),
    warehouseId: z.optional(WarehouseRef),
  }),
);

/** The seller's legal details as printed on every invoice and credit note (functions/core/seller.ts). */
export const SellerDetails = /* @__PURE__ */ lazySchema(() =>
  z.object({
    legalName: z.string(),
    address: z.array(z.string()),
    vatId: z.string(),
    registration: z.string(),
    bank: z.object({ name: z.string(), iban: z.string(), bic: z.string() }),
    email: z.string(),
  }),
);

/** Payment status of an invoice: `credited` once credit notes cover all of it. */
export const InvoiceStatus = /* @__PURE__ */ lazySchema(() => z.enum(['open', 'paid', 'overdue', 'credited']));

/** What one invoice line's credit notes took back so far (by SKU). */
export const CreditedLine = /* @__PURE__ */ lazySchema(() =>
  z.object({
    quantity: z.number().check(z.int(), z.nonnegative()),
    net: MinorUnits,
    tax: MinorUnits,
  }),
);

export const Invoice = /* @__PURE__ */ lazySchema(() =>
  z.object({
    invoiceNumber: z.string(),
    orderId: OrderId,
    /** The shipment it invoices (one invoice per shipment). */
    shipmentId: z.string(),
    customerId: CustomerId,
    customerName: z.string(),
    /** Where the invoice, credit notes and receipts go: the customer's billing e-mail. */
    customerEmail: z.email(),
    /** The buyer's VAT id, when the customer has one (printed on the document). */
    customerVatId: z.optional(z.string()),
    seller: SellerDetails,
    issuedAt: Timestamp,
    /** Card: the issue date (paid at issue); on account: issue date + the customer's net days. */
    dueDate: Timestamp,
    currency: Currency,
    lines: z.array(PricedLine),
    totals: Totals,
    billingAddress: Address,
    paymentMethod: z.enum(['card', 'on_account']),
    /** The order's tax treatment (`reverse_charge` prints the reverse-charge note); absent on invoices issued before treatments were recorded. */
    taxTreatment: z.optional(TaxTreatment),
    status: InvoiceStatus,
    amountPaid: MinorUnits,
    amountCredited: MinorUnits,
    /** Per SKU, what credit notes took back already: a partial credit note never exceeds a line. */
    creditedLines: z.optional(z.record(z.string(), CreditedLine)),
  }),
);

/** One line of a credit note: what of an invoice line it takes back. */
export const CreditNoteLine = /* @__PURE__ */ lazySchema(() =>
  z.object({
    sku: Sku,
    name: z.string(),
    quantity: z.number().check(z.int(), z.nonnegative()),
    taxRateBasisPoints: z.number().check(z.int(), z.nonnegative()),
    net: MinorUnits,
    tax: MinorUnits,
  }),
);

export const CreditNote = /* @__PURE__ */ lazySchema(() =>
  z.object({
    creditNoteNumber: z.string(),
    /** The request it was issued for: the refund and the numbering are keyed by it. */
    requestId: z.string(),
    invoiceNumber: z.string(),
    orderId: OrderId,
    customerId: CustomerId,
    customerName: z.string(),
    customerEmail: z.email(),
    customerVatId: z.optional(z.string()),
    seller: SellerDetails,
    billingAddress: Address,
    issuedAt: Timestamp,
    currency: Currency,
    reason: z.string(),
    lines: z.array(CreditNoteLine),
    totals: Totals,
    paymentMethod: z.enum(['card', 'on_account']),
    /** Card: the refund through the payment provider; on account: the customer's balance reduced. */
    settlement: z.enum(['refund', 'balance']),
  }),
);

const reasonText = /* @__PURE__ */ lazySchema(() =>
  plainText().check(z.trim(), z.minLength(1, 'is required'), z.maxLength(500, 'must be at most 500 characters')),
);

export const CreditNoteRequest = /* @__PURE__ */ lazySchema(() =>
  z.object({
    reason: reasonText,
    lines: z.optional(
      z
        .array(
          z.object({
            sku: Sku,
            quantity: z
              .number()
              .check(z.int('must be a whole number'), z.positive('must be at least 1'), z.lte(10_000)),
          }),
        )
        .check(
          z.minLength(1, 'must contain at least one line; omit it to credit the whole remaining amount'),
          z.maxLength(50),
        ),
    ),
  }),
);

export const PaymentRequest = /* @__PURE__ */ lazySchema(() =>
  z.object({
    amount: z
      .number()
      .check(z.int('must be an integer amount in minor units (cents)'), z.positive('must be more than 0')),
    reference: plainText().check(
      z.trim(),
      z.minLength(1, 'is required'),
      z.maxLength(100, 'must be at most 100 characters'),
    ),
    receivedAt: Timestamp,
  }),
);

export const InvoiceNumber = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^INV-\d{4}-\d{6}$/, 'is not an invoice number (INV-<year>-<6 digits>)')),
);
export const CreditNoteNumber = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^CN-\d{4}-\d{6}$/, 'is not a credit note number (CN-<year>-<6 digits>)')),
);

export const CarrierEventStatus = /* @__PURE__ */ lazySchema(() => z.enum(['IN_TRANSIT', 'DELIVERED', 'LOST']));
export const CarrierWebhook = /* @__PURE__ */ lazySchema(() =>
  z.object({
    trackingNumber: plainText().check(z.minLength(1), z.maxLength(64)),
    status: CarrierEventStatus,
    occurredAt: Timestamp,
  }),
);

/**
 * A CRM deal event (POST /webhooks/crm) as far as every stage needs it: which event, which deal, which
 * stage. Only a won deal is read further (CrmWonDealEvent); other stages are acknowledged and ignored.
 */
const CrmEventId = /* @__PURE__ */ lazySchema(() =>
  plainText().check(z.minLength(1, 'is required'), z.maxLength(128, 'must be at most 128 characters')),
);
const CrmDealStage = /* @__PURE__ */ lazySchema(() =>
  plainText().check(z.minLength(1, 'is required'), z.maxLength(100, 'must be at most 100 characters')),
);
export const CrmDealEvent = /* @__PURE__ */ lazySchema(() =>
  z.object({
    eventId: CrmEventId,
    occurredAt: Timestamp,
    deal: z.object({ id: ExternalReference, stage: CrmDealStage }),
  }),
);

/** The CRM company a deal is with: a customer by its CRM company id, else by its ordering e-mail address. */
export const CrmCompany = /* @__PURE__ */ lazySchema(() =>
  z.object({
    externalId: plainText().check(
      z.trim(),
      z.minLength(1, 'is required'),
      z.maxLength(100, 'must be at most 100 characters'),
    ),
    name: z.optional(plainText().check(z.trim(), z.maxLength(200, 'must be at most 200 characters'))),
    email: z.optional(z.email('must be an e-mail address').check(z.maxLength(254, 'must be at most 254 characters'))),
  }),
);

/** A won deal: it becomes an order entry (functions/core/crm.ts) for the company's customer. */
export const CrmWonDeal = /* @__PURE__ */ lazySchema(() =>
  z.object({
    id: ExternalReference,
    stage: CrmDealStage,
    currency: Currency,
    company: CrmCompany,
    lineItems: z
      .array(OrderLineRequest)
      .check(
        z.minLength(1, 'must contain at least one line item'),
        z.maxLength(50, 'must contain at most 50 line items'),
      ),
    /** Absent: the customer's billing address. */
    shippingAddress: z.optional(Address),
    /** Absent: the customer's payment terms; `card` charges the customer's card on file. */
    paymentTerms: z.optional(z.enum(['card', 'on_account'])),
  }),
);
export const CrmWonDealEvent = /* @__PURE__ */ lazySchema(() => z.extend(CrmDealEvent, { deal: CrmWonDeal }));

/** Input of every workflow task: the execution carries ids, the order record carries the facts. */
export const OrderRef = /* @__PURE__ */ lazySchema(() => z.object({ orderId: OrderId }));

/** Input of the tasks run once per allocation (the FulfilShipments Map). */
export const AllocationRef = /* @__PURE__ */ lazySchema(() =>
  z.extend(OrderRef, { allocationId: z.string().check(z.minLength(1)) }),
);

export const AwaitDeliveryInput = /* @__PURE__ */ lazySchema(() =>
  z.extend(OrderRef, {
    shipmentId: z.string(),
    trackingNumber: z.string(),
    taskToken: z.string().check(z.minLength(1)),
  }),
);

/** The `{ Error, Cause }` a Step Functions Catch places at ResultPath. */
export const CaughtError = /* @__PURE__ */ lazySchema(() =>
  z.object({
    Error: z.string(),
    Cause: z.optional(z.string()),
    /** Set by the compensation states' Catch when voiding or releasing failed after its retries. */
    voidPaymentError: z.optional(z.looseObject({ Error: z.string() })),
    releaseStockError: z.optional(z.looseObject({ Error: z.string() })),
  }),
);
export const CloseOrderInput = /* @__PURE__ */ lazySchema(() =>
  z.extend(OrderRef, {
    outcome: z.enum(['REJECTED', 'FAILED', 'CANCELLED']),
    error: CaughtError,
  }),
);

export type OrderChannel = z.infer<typeof OrderChannel>;
export type OrderEntry = z.infer<typeof OrderEntry>;
export type EntryChannel = z.infer<typeof EntryChannel>;
export type OrderEntrySubmission = z.infer<typeof OrderEntrySubmission>;
export type OrderRequest = z.infer<typeof OrderRequest>;
export type OrderLineRequest = z.infer<typeof OrderLineRequest>;
export type OrderStatus = z.infer<typeof OrderStatus>;
export type PricedLine = z.infer<typeof PricedLine>;
export type Totals = z.infer<typeof Totals>;
export type TaxCategory = z.infer<typeof TaxCategory>;
export type TaxTreatment = z.infer<typeof TaxTreatment>;
export type TaxByRate = z.infer<typeof TaxByRate>;
export type TaxProfile = z.infer<typeof TaxProfile>;
export type PaymentTerms = z.infer<typeof PaymentTerms>;
export type Shipment = z.infer<typeof Shipment>;
export type StockLine = z.infer<typeof StockLine>;
export type Allocation = z.infer<typeof Allocation>;
export type OrderInvoice = z.infer<typeof OrderInvoice>;
export type PaymentRecord = z.infer<typeof PaymentRecord>;
export type Failure = z.infer<typeof Failure>;
export type Order = z.infer<typeof Order>;
export type OrderSummary = z.infer<typeof OrderSummary>;
export type OrderSearchQuery = z.infer<typeof OrderSearchQuery>;
export type Customer = z.infer<typeof Customer>;
export type Product = z.infer<typeof Product>;
export type StockItem = z.infer<typeof StockItem>;
export type Backorder = z.infer<typeof Backorder>;
export type FulfilmentPolicy = z.infer<typeof FulfilmentPolicy>;
export type Invoice = z.infer<typeof Invoice>;
export type InvoiceStatus = z.infer<typeof InvoiceStatus>;
export type SellerDetails = z.infer<typeof SellerDetails>;
export type CreditedLine = z.infer<typeof CreditedLine>;
export type CreditNote = z.infer<typeof CreditNote>;
export type CreditNoteLine = z.infer<typeof CreditNoteLine>;
export type CreditNoteRequest = z.infer<typeof CreditNoteRequest>;
export type PaymentRequest = z.infer<typeof PaymentRequest>;
export type Address = z.infer<typeof Address>;
export type CarrierWebhook = z.infer<typeof CarrierWebhook>;
export type CrmDealEvent = z.infer<typeof CrmDealEvent>;
export type CrmWonDeal = z.infer<typeof CrmWonDeal>;
export type CrmWonDealEvent = z.infer<typeof CrmWonDealEvent>;
export type CaughtError = z.infer<typeof CaughtError>;
export type Principal = z.infer<typeof Principal>;
export type PrincipalView = z.infer<typeof PrincipalView>;
export type TimelineEntry = z.infer<typeof TimelineEntry>;

/** An approval request (approvals table, one per order): the task token it resumes, and the decision once made. */
export const ApprovalRecord = /* @__PURE__ */ lazySchema(() =>
  z.object({
    approvalId: z.string(),
    orderId: OrderId,
    customerId: CustomerId,
    taskToken: z.string(),
    reasons: z.array(ApprovalReason),
    status: ApprovalStatus,
    summary: z.object({
      customerName: z.string(),
      currency: Currency,
      paymentMethod: z.enum(['card', 'on_account']),
      lines: z.array(PricedLine),
      totals: Totals,
      /** On account: the customer's remaining credit when the approval was requested. */
      remainingCredit: z.optional(z.number().check(z.int())),
    }),
    requestedAt: Timestamp,
    expiresAt: Timestamp,
    emailedAt: z.optional(Timestamp),
    decidedAt: z.optional(Timestamp),
    decidedBy: z.optional(Principal),
    comment: z.optional(z.string()),
    /** The waiting workflow was told the decision (SendTaskSuccess/Failure answered). */
    resumed: z.optional(z.boolean()),
  }),
);

/** The random id of an approval request, as its decision link carries it. */
export const ApprovalId = /* @__PURE__ */ lazySchema(() =>
  z.string().check(z.regex(/^apr-[0-9a-f]{32}$/, 'is not an approval id')),
);

/** POST /approvals/{approvalId}: the signature is the one of the e-mailed link, carried in the body. */
export const ApprovalDecisionRequest = /* @__PURE__ */ lazySchema(() =>
  z.object({
    decision: z.enum(['approve', 'reject']),
    comment: z.optional(plainText().check(z.trim(), z.maxLength(500, 'must be at most 500 characters'))),
    signature: z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be the 64 hex digits of the decision link')),
  }),
);

export const RequestApprovalInput = /* @__PURE__ */ lazySchema(() =>
  z.extend(OrderRef, {
    taskToken: z.string().check(z.minLength(1)),
    reasons: z.array(ApprovalReason).check(z.minLength(1)),
    timeoutSeconds: z.number().check(z.int(), z.positive()),
  }),
);

export type ApprovalReason = z.infer<typeof ApprovalReason>;
export type ApprovalNeed = z.infer<typeof ApprovalNeed>;
export type ApprovalRecord = z.infer<typeof ApprovalRecord>;
export type OrderApproval = z.infer<typeof OrderApproval>;
export type Cancellation = z.infer<typeof Cancellation>;
export type CancellationKind = z.infer<typeof CancellationKind>;
