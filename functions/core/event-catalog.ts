import * as z from 'zod/mini';
import { LEDGER_EVENTS, ORDER_EVENTS, type PublishedEvent } from './events.ts';
import { FeedbackReceivedDetail } from './feedback.ts';
import { lazySchema } from './lazy-schema.ts';
import { Currency, CustomerId, MinorUnits, OrderChannel, OrderStatus, StockLine, Timestamp } from './schemas.ts';

/**
 * The event catalog: one schema per detail-type published on the order bus (source `sales.orders`).
 * The publisher checks every detail against it before PutEvents, the KPI projection parses with it,
 * and the README's "Event catalog" table is checked against `EVENT_CATALOG` by a test.
 *
 * Envelope (every event): `version` (1), `eventId` (deterministic: the same fact always has the same id,
 * `<orderId>:<detail-type>[:<shipmentId|creditNoteNumber|payment reference>]`, so a republished or
 * replayed event is recognisably the same), `orderId`, `occurredAt` (when the fact happened; a
 * republish keeps the first time).
 */
export const EVENT_VERSION = 1;

const OrderRefId = /* @__PURE__ */ lazySchema(() => z.string().check(z.minLength(1), z.maxLength(64)));
const Day = /* @__PURE__ */ lazySchema(() => z.iso.date());

// Strict: a field the catalog does not name is refused, and the publisher sends what the schema parsed.
const Envelope = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    version: z.literal(EVENT_VERSION),
    eventId: z.string().check(z.minLength(1), z.maxLength(300)),
    orderId: OrderRefId,
    occurredAt: Timestamp,
  }),
);

/** What every order event carries besides the envelope: ids, status and amounts, never personal data. */
const OrderEnvelope = /* @__PURE__ */ lazySchema(() =>
  z.extend(Envelope, {
    customerId: CustomerId,
    status: OrderStatus,
    channel: OrderChannel,
    currency: Currency,
    /** When the order was placed (received): the KPI window is over this. */
    placedAt: Timestamp,
    /** The order's gross total in minor units, once priced (validated). */
    total: z.optional(MinorUnits),
    /** The delivery date promised to the customer (a UTC day), once validated. */
    promisedDeliveryDate: z.optional(Day),
  }),
);

const shipped = () => ({ shipmentId: z.string().check(z.minLength(1)) });

/**
 * The reason code of a closing event (a domain error's name, e.g. OutOfStock, PaymentDeclined): up to
 * 256 characters, the longest error name Step Functions carries.
 */
const reason = () => ({ failureCode: z.string().check(z.minLength(1), z.maxLength(256)) });

interface Entry {
  schema: z.ZodMiniObject;
  /** When it is published (the README's table). */
  when: string;
}

/** An order event's entry: its envelope and the fields of its own (a function, so zod builds them on first use). */
const order = <S extends z.core.$ZodShape = Record<never, never>>(when: string, extra?: () => S) => ({
  schema: lazySchema(() => z.extend(OrderEnvelope, (extra?.() ?? {}) as S)),
  when,
});

/** Every detail-type on the order bus with its schema: a closed list (see ORDER_EVENTS). */
export const EVENT_CATALOG = {
  OrderReceived: order(
    'An order was captured (any channel); a repeat of its capture may publish it again, with the same eventId',
  ),
  OrderValidated: order('Customer, products, prices, tax and credit checked; the delivery promise is set', () => ({
    total: MinorUnits,
    promisedDeliveryDate: Day,
  })),
  OrderStockReserved: order('Stock was reserved for some or all lines'),
  OrderBackordered: order('Some lines wait for stock (ship_available)', () => ({
    backorder: z.array(StockLine).check(z.minLength(1)),
    backorderedQuantity: z.number().check(z.int(), z.positive()),
  })),
  OrderBackorderFilled: order('The backordered lines got their stock'),
  OrderBackorderCancelled: order('A backorder expired: its lines were cancelled', () => ({
    cancelled: z.array(StockLine).check(z.minLength(1)),
  })),
  OrderPaymentAuthorized: order('The card payment was authorized (or the order goes on account)'),
  OrderShipped: order('A shipment left a warehouse (one event per shipment)', () => ({
    ...shipped(),
    carrier: z.string().check(z.minLength(1)),
    warehouseId: z.string().check(z.minLength(1)),
  })),
  // The promise (envelope) is there for every order validated since promises were introduced.
  OrderDelivered: order('The carrier confirmed the last shipment delivered', () => ({ deliveredAt: Timestamp })),
  OrderPaymentCaptured: order('A shipment was paid (captured), or the payment settled as captured', () => ({
    shipmentId: z.optional(z.string().check(z.minLength(1))),
    amount: z.optional(MinorUnits),
  })),
  OrderInvoiced: order('An invoice was numbered for a shipment', () => ({
    ...shipped(),
    invoiceNumber: z.string().check(z.minLength(1)),
  })),
  OrderCompleted: order('Every shipment delivered, paid and invoiced', () => ({
    /** Gross of what was invoiced, minor units. */
    gross: MinorUnits,
    /** Every ordered quantity was delivered (no backordered line cancelled). */
    allLinesDelivered: z.boolean(),
    cycleTimeSeconds: z.number().check(z.nonnegative()),
  })),
  OrderCancellationRequested: order('Someone asked to cancel the order (or its backordered rest)', () => ({
    kind: z.string().check(z.minLength(1)),
  })),
  OrderPaymentVoided: order('Compensation: the authorization was voided'),
  OrderShipmentCancelled: order('Compensation: a booked shipment was cancelled'),
  OrderStockReleased: order('Compensation: the held stock was released'),
  OrderAllocationReleased: order('A cancelled remainder gave its held stock back'),
  OrderRejected: order('The order ended REJECTED (validation, approval, stock)', reason),
  OrderFailed: order('The order ended FAILED (payment declined, unrecoverable error)', reason),
  OrderCancelled: order('The order ended CANCELLED (by request)', reason),
  OrderCreditNoteIssued: order('A credit note was numbered against one of the order\u2019s invoices', () => ({
    creditNoteNumber: z.string().check(z.minLength(1)),
    invoiceNumber: z.string().check(z.minLength(1)),
    amount: MinorUnits,
  })),
  OrderPaymentReceived: order('A payment was recorded against one of the order\u2019s invoices (on account)', () => ({
    invoiceNumber: z.string().check(z.minLength(1)),
    reference: z.string().check(z.minLength(1)),
    amount: MinorUnits,
  })),
  FeedbackReceived: {
    schema: FeedbackReceivedDetail,
    when: 'A customer answered the satisfaction survey (once per order)',
  },
} as const satisfies Record<PublishedEvent, Entry>;

export type DetailType = keyof typeof EVENT_CATALOG;
export const DETAIL_TYPES = Object.keys(EVENT_CATALOG) as DetailType[];
export type EventDetail<T extends DetailType> = z.infer<(typeof EVENT_CATALOG)[T]['schema']>;

/** What the publisher or the projection found wrong with a detail: a programming error, not bad input. */
export class InvalidEventDetail extends Error {
  constructor(detailType: string, issues: string) {
    super(`${detailType} detail does not match the event catalog: ${issues}`);
    this.name = 'InvalidEventDetail';
  }
}

export function isDetailType(name: string): name is DetailType {
  return Object.hasOwn(EVENT_CATALOG, name);
}

/** The detail checked against its schema (throws InvalidEventDetail). */
export function parseEventDetail<T extends DetailType>(detailType: T, detail: unknown): EventDetail<T> {
  const result = EVENT_CATALOG[detailType].schema.safeParse(detail);
  if (!result.success)
    throw new InvalidEventDetail(
      detailType,
      result.error.issues.map((issue) => `${issue.path.join('.') || '(detail)'} ${issue.message}`).join('; '),
    );
  return result.data as EventDetail<T>;
}

/** The field names of a detail-type's schema, envelope first (the README table). */
export function fieldsOf(detailType: DetailType): string[] {
  return Object.keys(EVENT_CATALOG[detailType].schema.shape);
}

// Every order event has a catalog entry (and nothing else is published but FeedbackReceived).
ORDER_EVENTS satisfies readonly DetailType[];
LEDGER_EVENTS satisfies readonly DetailType[];

/** The README's "Event catalog" table (a test keeps the README equal to it). */
export function catalogTable(): string[] {
  const accepts = (schema: z.ZodMiniType | undefined) => schema?.safeParse(undefined).success ?? true;
  return [
    '| Detail-type | When | Fields besides the envelope (order events: besides the order envelope) |',
    '|---|---|---|',
    ...DETAIL_TYPES.map((type) => {
      const shape = EVENT_CATALOG[type].schema.shape as Record<string, z.ZodMiniType>;
      const base = (type === 'FeedbackReceived' ? Envelope.shape : OrderEnvelope.shape) as Record<
        string,
        z.ZodMiniType
      >;
      // Its own fields, and the envelope's optional ones it requires.
      const own = Object.keys(shape).filter(
        (field) => !(field in base) || (accepts(base[field]) && !accepts(shape[field])),
      );
      const fields = own.map((field) => `\`${field}\`${accepts(shape[field]) ? ' (optional)' : ''}`);
      return `| \`${type}\` | ${EVENT_CATALOG[type].when} | ${fields.join(', ') || '—'} |`;
    }),
  ];
}
