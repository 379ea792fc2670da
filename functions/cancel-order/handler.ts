import { principalFor } from '../core/access.ts';
import { decideCancellation } from '../core/cancellation.ts';
import { type Cancellation, CancelOrderRequest, OrderId } from '../core/schemas.ts';
import { actsFor, callerOf, isStaff } from '../lib/caller.ts';
import { approvalsRepository, clock, eventPublisher, ordersRepository, taskTokens } from '../lib/deps.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { logger } from '../lib/powertools.ts';

const orders = ordersRepository();
const approvals = approvalsRepository();
const events = eventPublisher();
const workflow = taskTokens();

/** The workflow no longer waits on that token (resumed, timed out, stopped): the fence still holds. */
const isClosedTask = (error: unknown) =>
  error instanceof Error && ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'].includes(error.name);

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

  const decision = decideCancellation(order);
  if (decision.kind === 'refused') throw new HttpError(409, 'NotCancellable', decision.reason);
  const cancellation: Cancellation = {
    requestedAt: clock().toISOString(),
    by: caller.principal,
    reason,
    kind: decision.kind,
  };
  const { recorded, order: stored } = await orders.requestCancellation(orderId, cancellation);
  if (!recorded) {
    // Someone else cancelled first (answer theirs), or the order moved on meanwhile.
    if (stored.cancellation) return answer(stored.cancellation);
    throw new HttpError(409, 'NotCancellable', decideCancellation({ ...order, ...stored }).reason);
  }
  logger.info('Cancellation recorded', { orderId, kind: cancellation.kind });
  await events.publish('OrderCancellationRequested', {
    orderId,
    customerId: stored.customerId,
    status: stored.status,
    channel: stored.channel,
    currency: stored.currency,
    total: stored.totals?.total,
    createdAt: stored.createdAt,
    at: cancellation.requestedAt,
    kind: cancellation.kind,
  });
  await wake(stored);
  return answer(cancellation);
});

/**
 * Wakes a workflow waiting on a task token (the order as stored after the fence, so a wait that
 * began before it is seen): the approval is expired (its link answers 410), the waiting task fails
 * with OrderCancelled. A wait that begins after the fence refuses on its own.
 */
async function wake(order: { orderId: string; approval?: { approvalId: string }; backorder?: { taskToken?: string } }) {
  const cause = `Order ${order.orderId} was cancelled`;
  const tokens: string[] = [];
  if (order.approval) {
    const record = await approvals.get(order.approval.approvalId);
    if (record?.status === 'PENDING') {
      await approvals.expire(record.approvalId);
      tokens.push(record.taskToken);
    }
  }
  if (order.backorder?.taskToken) tokens.push(order.backorder.taskToken);
  for (const token of tokens) {
    try {
      await workflow.fail(token, 'OrderCancelled', cause);
    } catch (error) {
      if (!isClosedTask(error)) throw error;
    }
  }
}
