import type { ApprovalsRepository } from '../adapters/approvals-repository.ts';
import type { CustomersRepository } from '../adapters/customers-repository.ts';
import type { Mailer } from '../adapters/mailer.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import type { TaskTokens } from '../adapters/workflow-client.ts';
import { cancellationEmail } from '../core/cancellation.ts';
import { OrderClosed } from '../core/errors.ts';
import type { Order } from '../core/schemas.ts';
import { isClosedTask } from './approval-decision.ts';

/**
 * Wakes a workflow waiting on a task token (the order as stored after the fence, so a wait that
 * began before it is seen): the approval is expired (its link answers 410), the waiting task fails
 * with OrderCancelled. A wait that begins after the fence refuses on its own.
 */
export async function wakeCancelled(
  deps: { approvals: Pick<ApprovalsRepository, 'get' | 'expire'>; workflow: Pick<TaskTokens, 'fail'> },
  order: { orderId: string; approval?: { approvalId: string }; backorder?: { taskToken?: string } },
): Promise<void> {
  const cause = `Order ${order.orderId} was cancelled`;
  const tokens: string[] = [];
  if (order.approval) {
    const record = await deps.approvals.get(order.approval.approvalId);
    if (record?.status === 'PENDING') {
      await deps.approvals.expire(record.approvalId);
      tokens.push(record.taskToken);
    }
  }
  if (order.backorder?.taskToken) tokens.push(order.backorder.taskToken);
  for (const token of tokens) {
    try {
      await deps.workflow.fail(token, 'OrderCancelled', cause);
    } catch (error) {
      // The workflow no longer waits on that token (resumed, timed out, stopped): the fence still holds.
      if (!isClosedTask(error)) throw error;
    }
  }
}

/** The customer's e-mail about a cancelled order, once (a retried close finds the notification recorded). */
export async function notifyCancelled(
  deps: {
    orders: Pick<OrdersRepository, 'recordStage'>;
    customers: Pick<CustomersRepository, 'find'>;
    mailer: Pick<Mailer, 'send'>;
    clock: () => Date;
  },
  order: Order,
): Promise<void> {
  if (order.stages.OrderCancelledNotified || !order.cancellation) return;
  const customer = await deps.customers.find(order.customerId);
  if (customer) {
    const cancelled = (order.lines ?? order.requestedLines).map(({ sku, quantity }) => ({ sku, quantity }));
    await deps.mailer.send({
      to: [customer.email],
      ...cancellationEmail({ orderId: order.orderId, kind: 'whole', reason: order.cancellation.reason, cancelled }),
    });
  }
  await deps.orders.recordStage(order.orderId, 'OrderCancelledNotified', deps.clock()).catch((error: unknown) => {
    if (!(error instanceof OrderClosed)) throw error;
  });
}
