import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { OrderRef } from '../core/schemas.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { logger } from '../lib/powertools.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const payments = new SandboxPaymentProvider();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/** VoidPayment (compensation): voids an open authorization; leaves a captured payment to ops; else nothing. */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const record = order.paymentRecord;
  if (record?.method !== 'card' || !record.authorizationId) return { action: 'none' };
  if (record.status === 'AUTHORIZED') {
    await payments.void(record.authorizationId);
    await recordStage(orderId, 'OrderPaymentVoided', { set: { paymentRecord: { ...record, status: 'VOIDED' } } });
    return { action: 'voided' };
  }
  if (record.status === 'CAPTURED') {
    // Captured means delivered: money goes back only by decision (a credit note), never automatically.
    logger.warn('Captured payment left for ops to settle', { orderId });
    return { action: 'none', reason: 'captured' };
  }
  return { action: 'none' };
});
