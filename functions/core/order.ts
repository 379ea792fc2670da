import { principalFor, principalLabel, type Viewer } from './access.ts';
import {
  type CaughtError,
  type Failure,
  type Order,
  type OrderRequest,
  type OrderStatus,
  type Principal,
  TERMINAL_STATUSES,
  type TimelineEntry,
} from './schemas.ts';

/** A new order as captured, before the workflow has looked at it. */
export function newOrder(args: {
  orderId: string;
  request: OrderRequest;
  channel: Order['channel'];
  now: Date;
  placedBy?: Principal;
}): Order {
  const at = args.now.toISOString();
  const { request } = args;
  return {
    orderId: args.orderId,
    status: 'RECEIVED',
    channel: args.channel,
    ...(args.placedBy ? { placedBy: args.placedBy } : {}),
    customerId: request.customerId,
    currency: request.currency,
    requestedLines: request.lines,
    shippingAddress: request.shippingAddress,
    payment: request.payment,
    shipments: [],
    stages: { OrderReceived: at },
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * The order's history, oldest first, derived from the stage times; the capture names who placed it,
 * as the viewer may see them (principalFor).
 */
export function timelineOf(order: Pick<Order, 'stages' | 'placedBy'>, viewer: Viewer): TimelineEntry[] {
  const by = order.placedBy && principalLabel(principalFor(order.placedBy, viewer));
  return Object.entries(order.stages)
    .map(([type, at]) => (type === 'OrderReceived' && by ? { at, type, by } : { at, type }))
    .sort((a, b) => a.at.localeCompare(b.at) || a.type.localeCompare(b.type));
}

/**
 * Failure codes whose messages are ours (domain errors and the workflow's own Pass states): they
 * name ids, SKUs and amounts, never personal data. Any other error (an AWS service's, a bug's) may
 * echo what it was given, so the order shows its code and a generic message only.
 */
const OWN_MESSAGES = new Set([
  'InvalidOrder',
  'OutOfStock',
  'CreditLimitExceeded',
  'PaymentDeclined',
  'ShipmentLost',
  'DeliveryNotConfirmed',
  'InvoiceNumbersExhausted',
  // Failures after capture say what is missing (their messages carry error names and invoice numbers only).
  'InvoiceNotIssued',
  'InvoiceNotDelivered',
]);

const COMPENSATION_STEPS = { voidPaymentError: 'payment', releaseStockError: 'stock' } as const;

/**
 * Turns the `{ Error, Cause }` of a Step Functions Catch into the order's failure. For a Lambda
 * error the Cause is a JSON document with `errorMessage`; for States.* errors it is plain text.
 * When a compensation state failed too, the failure says which one.
 */
export function failureFrom(error: CaughtError): Failure {
  let message = error.Cause ?? '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // plain-text cause
  }
  if (!OWN_MESSAGES.has(error.Error) || !message) message = genericMessage(error.Error);
  const failed = Object.entries(COMPENSATION_STEPS)
    .filter(([field]) => error[field as keyof typeof COMPENSATION_STEPS] !== undefined)
    .map(([, step]) => step);
  if (failed.length === 0) return { code: error.Error, message };
  return { code: error.Error, message: `${message}. ${compensationNote(failed)}`, compensationFailed: failed };
}

function genericMessage(code: string): string {
  if (code === 'States.Timeout') return 'A step of the order did not finish in time';
  return `The order could not be completed (${code})`;
}

export const compensationNote = (failed: readonly string[]) =>
  `Compensation failed for: ${failed.join(', ')}; left for operations to settle`;

/** How far an order has come: a status never moves to a lower rank (terminal statuses rank highest). */
const RANKS: Record<OrderStatus, number> = {
  RECEIVED: 0,
  VALIDATED: 1,
  RESERVED: 2,
  PAYMENT_AUTHORIZED: 3,
  SHIPPED: 4,
  DELIVERED: 5,
  PAYMENT_CAPTURED: 6,
  INVOICED: 7,
  COMPLETED: 100,
  REJECTED: 100,
  CANCELLED: 100,
  FAILED: 100,
};
export const statusRank = (status: OrderStatus): number => RANKS[status];

export const isTerminal = (status: OrderStatus): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);

/** The failure of an order whose workflow ended outside its own Catch paths (stopped, timed out, failed). */
export function interruptedFailure(executionStatus: string, compensationFailed: readonly string[]): Failure {
  const message = `The order's workflow ended ${executionStatus} before the order finished; it was compensated`;
  if (compensationFailed.length === 0) return { code: 'WorkflowInterrupted', message };
  return {
    code: 'WorkflowInterrupted',
    message: `The order's workflow ended ${executionStatus} before the order finished. ${compensationNote(compensationFailed)}`,
    compensationFailed: [...compensationFailed],
  };
}

/** Order cycle time in seconds from capture to a terminal stage. */
export function cycleTimeSeconds(order: Pick<Order, 'createdAt'>, endedAt: Date): number {
  return Math.max(0, Math.round((endedAt.getTime() - Date.parse(order.createdAt)) / 1000));
}
