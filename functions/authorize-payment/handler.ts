import { paymentKey, SandboxPaymentProvider } from '../adapters/payments.ts';
import { OrderCancelled, OrderClosed } from '../core/errors.ts';
import { isTerminal } from '../core/order.ts';
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
 * The intent is refused once a reconciler fences the order (`closing`), so a task still running
 * after its execution was stopped never asks the provider; an authorization that arrives for an
 * order closed meanwhile is voided again.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  if (isTerminal(order.status) || order.closing)
    throw new OrderClosed(orderId, order.closing ? 'being closed' : order.status);
  if (order.cancellation) throw new OrderCancelled(orderId);
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
  try {
    await recordStage(orderId, 'OrderPaymentAuthorized', {
      status: 'PAYMENT_AUTHORIZED',
      set: { paymentRecord: record },
      whileOpen: true,
    });
  } catch (error) {
    // Closed or being closed meanwhile: the authorization must not stay open (voiding by key is idempotent).
    if ((error instanceof OrderClosed || error instanceof OrderCancelled) && record.idempotencyKey)
      await payments.void({ authorizationKey: record.idempotencyKey });
    throw error;
  }
  return { status: record.status };
});
