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
  externalReference?: string;
  submissionHash?: string;
}): Order {
  const at = args.now.toISOString();
  const { request } = args;
  return {
    orderId: args.orderId,
    status: 'RECEIVED',
    channel: args.channel,
    ...(args.placedBy ? { placedBy: args.placedBy } : {}),
    ...(args.externalReference ? { externalReference: args.externalReference } : {}),
    ...(args.submissionHash ? { submissionHash: args.submissionHash } : {}),
    customerId: request.customerId,
    currency: request.currency,
    requestedLines: request.lines,
    shippingAddress: request.shippingAddress,
    payment: request.payment,
    fulfilmentPolicy: request.fulfilmentPolicy ?? 'all_or_nothing',
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
export function timelineOf(
  order: Pick<Order, 'stages' | 'placedBy' | 'approval'> & Partial<Pick<Order, 'cancellation' | 'failure'>>,
  viewer: Viewer,
): TimelineEntry[] {
  const by = order.placedBy && principalLabel(principalFor(order.placedBy, viewer));
  const cancellation = order.cancellation;
  const cancelledBy = cancellation && principalLabel(principalFor(cancellation.by, viewer));
  const approval = order.approval;
  const decidedBy = approval?.decidedBy && principalLabel(principalFor(approval.decidedBy, viewer));
  return Object.entries(order.stages)
    .map(([type, at]): TimelineEntry => {
      if (type === 'OrderReceived' && by) return { at, type, by };
      // The approver's decision names who made it and carries their comment.
      if (DECISION_STAGES.includes(type) && decidedBy)
        return { at, type, by: decidedBy, ...(approval?.comment ? { comment: approval.comment } : {}) };
      // A cancellation names who asked for it and why (OrderCancelled only when it ended the order).
      const cancelledHere =
        type === 'OrderCancellationRequested' ||
        (type === 'OrderCancelled' && order.failure?.code === 'OrderCancelled');
      if (cancelledHere && cancellation && cancelledBy)
        return { at, type, by: cancelledBy, reason: cancellation.reason };
      return { at, type };
    })
    .sort((a, b) => a.at.localeCompare(b.at) || a.type.localeCompare(b.type));
}

const DECISION_STAGES: readonly string[] = ['ApprovalGranted', 'ApprovalRejected'];

/**
 * Failure codes whose messages are ours (domain errors and the workflow's own Pass states): they
 * name ids, SKUs and amounts, never personal data. Any other error (an AWS service's, a bug's) may
 * echo what it was given, so the order shows its code and a generic message only.
 */
const OWN_MESSAGES = new Set([
  'InvalidOrder',
  'CustomerBlocked',
  'PriceMismatch',
  'OutOfStock',
  'CreditLimitExceeded',
  'PaymentDeclined',
  'ShipmentLost',
  'DeliveryNotConfirmed',
  'ApprovalRejected',
  'ApprovalTimedOut',
  'InvoiceNumbersExhausted',
  'CreditNoteRefused',
  'PaymentRefused',
  'BackorderExpired',
  'OrderCancelled',
  'InvalidEmailAddress',
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
  // Between validated and reserved: a filled backorder moves the order on to RESERVED.
  BACKORDERED: 1.5,
  RESERVED: 2,
  PAYMENT_AUTHORIZED: 3,
  // Per shipment: shipped, captured and invoiced at dispatch, then delivered.
  SHIPPED: 4,
  PAYMENT_CAPTURED: 5,
  INVOICED: 6,
  DELIVERED: 7,
  COMPLETED: 100,
  REJECTED: 100,
  CANCELLED: 100,
  FAILED: 100,
};
export const statusRank = (status: OrderStatus): number => RANKS[status];

export const isTerminal = (status: OrderStatus): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);

export type Missing = NonNullable<Failure['missing']>[number];

/**
 * What an interrupted order still owes its customer once compensation is done, shipment by shipment:
 * a captured shipment is never voided and goods that left are not brought back, so the order says
 * what is missing: `invoice` for a shipment captured or gone without one, `payment` for a card
 * shipment gone without its capture (on account, the invoice is the demand for payment).
 */
export function missingAfterInterruption(order: Pick<Order, 'payment' | 'shipments'>): Missing[] {
  const missing = new Set<Missing>();
  for (const shipment of order.shipments) {
    const left = ['IN_TRANSIT', 'DELIVERED', 'LOST'].includes(shipment.status);
    if (!left && !shipment.captureId && !shipment.invoiceNumber) continue;
    if (order.payment.method === 'card' && !shipment.captureId) missing.add('payment');
    if (!shipment.invoiceNumber) missing.add('invoice');
  }
  return (['payment', 'invoice'] as const).filter((m) => missing.has(m));
}

/**
 * What a failed order's customer was charged for goods that did not arrive: shipments lost after
 * their capture or invoice. Said on the failure, for operations (a credit note or a replacement).
 */
export function chargedButLost(order: Pick<Order, 'shipments' | 'currency'>): string | undefined {
  const lost = order.shipments.filter((s) => s.status === 'LOST' && (s.captureId || s.invoiceNumber));
  if (lost.length === 0) return undefined;
  const named = lost.map((s) => `${s.shipmentId}${s.invoiceNumber ? ` (invoice ${s.invoiceNumber})` : ''}`);
  return `Charged for lost shipment ${named.join(', ')}; left for operations to settle`;
}

/** The invoices issued for an order's shipments, as its failure names them. */
export function invoicedNote(order: Pick<Order, 'shipments'>): string | undefined {
  const numbers = order.shipments.flatMap((s) => (s.invoiceNumber ? [s.invoiceNumber] : []));
  return numbers.length > 0 ? `Invoiced and kept: ${numbers.join(', ')}` : undefined;
}

const MISSING_NOTES: Record<string, string> = {
  invoice: 'Payment captured, invoice not issued',
  'payment,invoice': 'Goods shipped, payment not captured, invoice not issued',
};

/**
 * The failure of an order whose workflow ended outside its own Catch paths (stopped, timed out,
 * failed). "Compensated" only when it was: a charged customer or shipped goods are said as such.
 */
export function interruptedFailure(
  executionStatus: string,
  compensationFailed: readonly string[],
  missing: readonly Missing[] = [],
  paymentMethod: 'card' | 'on_account' = 'card',
  /** Every shipment of the order has its invoice: nothing was given back, there was nothing to give back. */
  invoiced = false,
): Failure {
  const ended = `The order's workflow ended ${executionStatus} before the order finished`;
  const notes: string[] = [];
  if (missing.length > 0) {
    const key = missing.join(',');
    const note =
      key === 'invoice' && paymentMethod === 'on_account'
        ? 'Goods shipped, invoice not issued'
        : (MISSING_NOTES[key] ?? `Missing: ${key}`);
    notes.push(`${note}; left for operations to settle`);
  }
  if (compensationFailed.length > 0) notes.push(compensationNote(compensationFailed));
  if (notes.length === 0 && invoiced)
    return {
      code: 'WorkflowInterrupted',
      message: `${ended}. Invoices issued; only the order's completion is missing`,
    };
  if (notes.length === 0) return { code: 'WorkflowInterrupted', message: `${ended}; it was compensated` };
  return {
    code: 'WorkflowInterrupted',
    message: `${ended}. ${notes.join('. ')}`,
    ...(compensationFailed.length > 0 ? { compensationFailed: [...compensationFailed] } : {}),
    ...(missing.length > 0 ? { missing: [...missing] } : {}),
  };
}

/** Order cycle time in seconds from capture to a terminal stage. */
export function cycleTimeSeconds(order: Pick<Order, 'createdAt'>, endedAt: Date): number {
  return Math.max(0, Math.round((endedAt.getTime() - Date.parse(order.createdAt)) / 1000));
}

/** The promised delivery day: the UTC day the order was placed plus the standard lead time in days. */
export function promisedDeliveryDate(placedAt: string, leadTimeDays: number): string {
  const day = new Date(Date.parse(placedAt));
  day.setUTCDate(day.getUTCDate() + leadTimeDays);
  return day.toISOString().slice(0, 10);
}

/**
 * What OrderCompleted says about the order for the KPIs: the gross invoiced (the sum of its invoices;
 * the priced total when it has none recorded) and whether every ordered quantity was delivered (every
 * shipment delivered, no backordered line cancelled).
 */
export function completionOf(order: Pick<Order, 'invoices' | 'totals' | 'shipments' | 'backorder'>): {
  gross: number;
  allLinesDelivered: boolean;
} {
  const invoiced = (order.invoices ?? []).reduce((sum, invoice) => sum + invoice.total, 0);
  const gross = (order.invoices ?? []).length > 0 ? invoiced : (order.totals?.total ?? 0);
  const allLinesDelivered =
    order.shipments.length > 0 &&
    order.shipments.every((shipment) => shipment.status === 'DELIVERED') &&
    (order.backorder?.cancelledLines ?? []).length === 0 &&
    (order.backorder?.lines ?? []).length === 0;
  return { gross, allLinesDelivered };
}

/** The lines and totals ValidateOrder priced: every stage after it needs them, so their absence is a bug. */
export function pricedOf(order: Pick<Order, 'orderId' | 'lines' | 'totals'>): {
  lines: NonNullable<Order['lines']>;
  totals: NonNullable<Order['totals']>;
} {
  if (!order.lines || !order.totals) throw new Error(`Order ${order.orderId} has not been priced`);
  return { lines: order.lines, totals: order.totals };
}
