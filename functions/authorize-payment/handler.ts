import { paymentKey, SandboxPaymentProvider } from '../adapters/payments.ts';
import type { PaymentRecord } from '../core/schemas.ts';
import { OrderRef } from '../core/schemas.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const payments = new SandboxPaymentProvider();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/**
 * AuthorizePayment: card orders are authorized for the total; on-account orders passed the credit
 * check. The intent (PENDING, with its idempotency key) is recorded before the provider is called,
 * so compensation knows an authorization may exist even if this function dies before recording it.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const amount = order.totals?.total ?? 0;
  let record: PaymentRecord;
  if (order.paymentRecord && order.paymentRecord.status !== 'PENDING') {
    record = order.paymentRecord; // a re-run after the authorization was recorded
  } else if (order.payment.method === 'card') {
    const idempotencyKey = paymentKey(orderId, 'authorize');
    if (!order.paymentRecord)
      await orders.recordPaymentIntent(orderId, { method: 'card', status: 'PENDING', idempotencyKey, amount });
    // The same key on a retry: the provider answers with the first authorization, never a second one.
    const { authorizationId } = await payments.authorize({
      idempotencyKey,
      orderId,
      token: order.payment.token,
      amount,
      currency: order.currency,
    });
    record = { method: 'card', status: 'AUTHORIZED', authorizationId, idempotencyKey, amount };
  } else {
    record = { method: 'on_account', status: 'ON_ACCOUNT', amount };
  }
  await recordStage(orderId, 'OrderPaymentAuthorized', {
    status: 'PAYMENT_AUTHORIZED',
    set: { paymentRecord: record },
  });
  return { status: record.status };
});
