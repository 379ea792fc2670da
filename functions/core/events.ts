/**
 * The order's domain events: each is recorded once as a stage on the order (its timeline) and
 * published to the order bus with this name as EventBridge detail-type (`Order<PastTense>`).
 * A closed list: a new event is added here, so rules, consumers and the timeline know every name.
 */
export const ORDER_EVENTS = [
  'OrderReceived',
  'OrderValidated',
  'OrderStockReserved',
  'OrderBackordered',
  'OrderBackorderFilled',
  'OrderBackorderCancelled',
  'OrderPaymentAuthorized',
  'OrderShipped',
  'OrderDelivered',
  'OrderPaymentCaptured',
  'OrderInvoiced',
  'OrderCompleted',
  'OrderCancellationRequested',
  'OrderPaymentVoided',
  'OrderShipmentCancelled',
  'OrderStockReleased',
  'OrderAllocationReleased',
  'OrderRejected',
  'OrderFailed',
  'OrderCancelled',
] as const;

export type OrderEvent = (typeof ORDER_EVENTS)[number];

/** The event that closes an order with each terminal outcome the workflow's close states set. */
export const CLOSING_EVENT = {
  REJECTED: 'OrderRejected',
  CANCELLED: 'OrderCancelled',
  FAILED: 'OrderFailed',
} as const satisfies Record<string, OrderEvent>;

/**
 * Stages recorded on the order but never published: the approval's steps (its own routes tell the
 * approver) and the notices the customer was sent (so a retry does not send them twice).
 */
export const UNPUBLISHED_STAGES = [
  'ApprovalRequested',
  'ApprovalGranted',
  'ApprovalRejected',
  'OrderCancelledNotified',
  'OrderBackorderCancelledNotified',
] as const;

/** Every name an order's `stages` (and its timeline) can hold; the survey answer is on the timeline too. */
export const STAGE_NAMES = [...ORDER_EVENTS, 'FeedbackReceived', ...UNPUBLISHED_STAGES] as const;

export type StageName = (typeof STAGE_NAMES)[number];

export const isOrderEvent = (name: string): name is OrderEvent => (ORDER_EVENTS as readonly string[]).includes(name);

/**
 * Published about an order's invoices but not recorded as a stage on the order: an order can have
 * several credit notes and payments, each its own fact (its eventId names the note or the payment).
 */
export const LEDGER_EVENTS = ['OrderCreditNoteIssued', 'OrderPaymentReceived'] as const;

/** Every detail-type the order bus carries from this service (FeedbackReceived: the survey's answer). */
export type PublishedEvent = OrderEvent | (typeof LEDGER_EVENTS)[number] | 'FeedbackReceived';

/** The deterministic id of a fact: the same fact (republished, replayed) always gets the same id. */
export function eventIdOf(orderId: string, detailType: PublishedEvent, discriminator?: string): string {
  return discriminator ? `${orderId}:${detailType}:${discriminator}` : `${orderId}:${detailType}`;
}

/**
 * The envelope and what every order event carries (core/event-catalog.ts): ids, status, amounts and
 * the delivery promise, never personal data. `at` is when the stage was first recorded (a republished
 * event keeps its first time); `discriminator` tells apart the facts of one type on one order (the
 * shipment of an OrderShipped), so the event id is the same for the same fact only.
 */
export function orderEventDetail(
  order: {
    orderId: string;
    customerId: string;
    status: string;
    channel: string;
    currency: string;
    totals?: { total: number };
    promisedDeliveryDate?: string;
    createdAt: string;
  },
  detailType: PublishedEvent,
  at: string,
  discriminator?: string,
): Record<string, unknown> {
  return {
    version: 1,
    eventId: eventIdOf(order.orderId, detailType, discriminator),
    orderId: order.orderId,
    occurredAt: at,
    customerId: order.customerId,
    status: order.status,
    channel: order.channel,
    currency: order.currency,
    placedAt: order.createdAt,
    ...(order.totals ? { total: order.totals.total } : {}),
    ...(order.promisedDeliveryDate ? { promisedDeliveryDate: order.promisedDeliveryDate } : {}),
  };
}
