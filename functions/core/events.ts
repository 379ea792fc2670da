/**
 * The order's domain events: each is recorded once as a stage on the order (its timeline) and
 * published to the order bus with this name as EventBridge detail-type (`Order<PastTense>`; the
 * customer's survey answer is `FeedbackReceived`).
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
  // The customer's survey answer after delivery (functions/record-feedback): detail per core/feedback.ts.
  'FeedbackReceived',
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

/** Every name an order's `stages` (and its timeline) can hold. */
export const STAGE_NAMES = [...ORDER_EVENTS, ...UNPUBLISHED_STAGES] as const;

export type StageName = (typeof STAGE_NAMES)[number];

export const isOrderEvent = (name: string): name is OrderEvent => (ORDER_EVENTS as readonly string[]).includes(name);

/**
 * What every order event carries: ids, status and amounts, never personal data. `at` is when the
 * stage was recorded (a republished event keeps its first time).
 */
export function orderEventDetail(
  order: {
    orderId: string;
    customerId: string;
    status: string;
    channel: string;
    currency: string;
    totals?: { total: number };
    createdAt: string;
  },
  at: string,
): Record<string, unknown> {
  return {
    orderId: order.orderId,
    customerId: order.customerId,
    status: order.status,
    channel: order.channel,
    currency: order.currency,
    total: order.totals?.total,
    createdAt: order.createdAt,
    at,
  };
}
