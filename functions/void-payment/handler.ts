import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { OrderRef } from '../core/schemas.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const payments = new SandboxPaymentProvider();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/** VoidPayment (compensation): voids an authorization, refunds a capture, does nothing otherwise. */
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
    await payments.refund(record.authorizationId, record.amount);
    await recordStage(orderId, 'OrderPaymentRefunded', { set: { paymentRecord: { ...record, status: 'REFUNDED' } } });
    return { action: 'refunded' };
  }
  return { action: 'none' };
});
