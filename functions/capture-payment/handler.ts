import { paymentKey, SandboxPaymentProvider } from '../adapters/payments.ts';
import { OrderRef } from '../core/schemas.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const payments = new SandboxPaymentProvider();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/** CapturePayment: delivered, so the card authorization is captured. On-account orders are paid against the invoice. */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const record = order.paymentRecord;
  if (!record) throw new Error('The order has no payment to capture');
  if (record.method === 'card' && record.authorizationId && ['AUTHORIZED', 'CAPTURED'].includes(record.status)) {
    // Keyed by the authorization: capturing twice counts as success; a re-run only re-announces the stage.
    if (record.status === 'AUTHORIZED')
      await payments.capture({
        authorizationKey: record.idempotencyKey ?? paymentKey(orderId, 'authorize'),
        amount: record.amount,
      });
    await recordStage(orderId, 'OrderPaymentCaptured', {
      status: 'PAYMENT_CAPTURED',
      set: { paymentRecord: { ...record, status: 'CAPTURED' } },
    });
  }
  return { status: record.method === 'card' ? 'CAPTURED' : record.status };
});
