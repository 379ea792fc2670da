import { SandboxPaymentProvider } from '../adapters/payments.ts';
import type { PaymentRecord } from '../core/schemas.ts';
import { OrderRef } from '../core/schemas.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const payments = new SandboxPaymentProvider();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/** AuthorizePayment: card orders are authorized for the total; on-account orders passed the credit check. */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const amount = order.totals?.total ?? 0;
  // A re-run after the authorization was recorded must not authorize twice.
  let record: PaymentRecord;
  if (order.paymentRecord) {
    record = order.paymentRecord;
  } else if (order.payment.method === 'card') {
    const { authorizationId } = await payments.authorize({
      orderId,
      token: order.payment.token,
      amount,
      currency: order.currency,
    });
    record = { method: 'card', status: 'AUTHORIZED', authorizationId, amount };
  } else {
    record = { method: 'on_account', status: 'ON_ACCOUNT', amount };
  }
  await recordStage(orderId, 'OrderPaymentAuthorized', {
    status: 'PAYMENT_AUTHORIZED',
    set: { paymentRecord: record },
  });
  return { status: record.status };
});
