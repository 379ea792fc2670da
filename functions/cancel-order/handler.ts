import { principalFor } from '../core/access.ts';
import { decideCancellation } from '../core/cancellation.ts';
import { orderEventDetail } from '../core/events.ts';
import { type Cancellation, CancelOrderRequest, OrderId } from '../core/schemas.ts';
import { actsFor, callerOf, isStaff } from '../lib/caller.ts';
import { wakeCancelled } from '../lib/cancellation.ts';
import { approvalsRepository, clock, eventPublisher, ordersRepository, taskTokens } from '../lib/deps.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { logger } from '../lib/powertools.ts';

const orders = ordersRepository();
const approvals = approvalsRepository();
const events = eventPublisher();
const workflow = taskTokens();

/**
 * POST /orders/{orderId}/cancel — a rep, ops or the customer's own buyer client cancels the order.
 * ONE conditional write records the cancellation (the fence every forward step checks); then a
 * workflow waiting for an approver or for stock is woken with OrderCancelled and compensates. A
 * repeat answers with the cancellation already recorded; an order that ended or left in full: 409.
 */
export const handler = httpRoute(async (event) => {
  const orderId = pathParameter(event, 'orderId', OrderId);
  const { reason } = parseOr400(CancelOrderRequest, jsonBody(event));
  const caller = callerOf(event);
  const found = await orders.find(orderId);
  // Another customer's order looks exactly like one that does not exist (as GET does).
  const order = found && actsFor(caller, found.customerId) ? found : undefined;
  if (!order) throw new HttpError(404, 'OrderNotFound', `Order ${orderId} does not exist`);
  const viewer = isStaff(caller) ? 'staff' : 'client';
  const answer = (cancellation: Cancellation) =>
    json(202, { orderId, cancellation: { ...cancellation, by: principalFor(cancellation.by, viewer) } });
  if (order.cancellation) return answer(order.cancellation);

  let current = order;
  let attempt: { order: typeof order; cancellation: Cancellation };
  for (let tries = 1; ; tries++) {
    const decision = decideCancellation(current);
    if (decision.kind === 'refused') throw new HttpError(409, 'NotCancellable', decision.reason);
    const cancellation: Cancellation = {
      requestedAt: clock().toISOString(),
      by: caller.principal,
      reason,
      kind: decision.kind,
    };
    const { recorded, order: stored } = await orders.requestCancellation(orderId, cancellation);
    attempt = { order: stored as typeof order, cancellation };
    if (recorded) break;
    // Someone else cancelled first (answer theirs), or the order moved on meanwhile.
    if (stored.cancellation) return answer(stored.cancellation);
    // A shipment was booked meanwhile: decide again on the order as it is now (a remainder cancellation).
    const now = decision.kind === 'whole' && stored.bookedAt && tries < 2 ? await orders.find(orderId) : undefined;
    if (!now) throw new HttpError(409, 'NotCancellable', decideCancellation({ ...current, ...stored }).reason);
    current = now;
  }
  const { order: stored, cancellation } = attempt;
  logger.info('Cancellation recorded', { orderId, kind: cancellation.kind });
  const detail = orderEventDetail(stored, 'OrderCancellationRequested', cancellation.requestedAt);
  await events.publish('OrderCancellationRequested', { ...detail, kind: cancellation.kind });
  await wakeCancelled({ approvals, workflow }, stored);
  return answer(cancellation);
});
