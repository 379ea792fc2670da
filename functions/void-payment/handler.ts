import { OrderRef } from '../core/schemas.ts';
import { orderCompensations, ordersRepository } from '../lib/deps.ts';
import { logger } from '../lib/powertools.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const compensate = orderCompensations(orders);

/**
 * VoidPayment (compensation): voids an authorization that exists or may exist (by its idempotency
 * key); leaves a captured payment to ops; else nothing. A retry announces OrderPaymentVoided again.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const action = await compensate.voidPayment(orderId);
  // Captured means delivered: money goes back only by decision (a credit note), never automatically.
  if (action === 'captured') logger.warn('Captured payment left for ops to settle');
  return { action };
});
