import { principalLabel } from './access.ts';
import type { CaughtError, Failure, Order, OrderRequest, Principal, TimelineEntry } from './schemas.ts';

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

/** The order's history, oldest first, derived from the stage times; the capture names who placed it. */
export function timelineOf(order: Pick<Order, 'stages' | 'placedBy'>): TimelineEntry[] {
  return Object.entries(order.stages)
    .map(([type, at]) =>
      type === 'OrderReceived' && order.placedBy ? { at, type, by: principalLabel(order.placedBy) } : { at, type },
    )
    .sort((a, b) => a.at.localeCompare(b.at) || a.type.localeCompare(b.type));
}

/**
 * Turns the `{ Error, Cause }` of a Step Functions Catch into the order's failure. For a Lambda
 * error the Cause is a JSON document with `errorMessage`; for States.* errors it is plain text.
 */
export function failureFrom(error: CaughtError): Failure {
  let message = error.Cause ?? '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // plain-text cause
  }
  return { code: error.Error, message: message || error.Error };
}

/** Order cycle time in seconds from capture to a terminal stage. */
export function cycleTimeSeconds(order: Pick<Order, 'createdAt'>, endedAt: Date): number {
  return Math.max(0, Math.round((endedAt.getTime() - Date.parse(order.createdAt)) / 1000));
}
