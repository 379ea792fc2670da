import type { OrdersRepository } from '../adapters/orders-repository.ts';
import { type PaymentProvider, paymentKey } from '../adapters/payments.ts';
import type { Order, PaymentRecord } from '../core/schemas.ts';

/**
 * The order's authorization: the one already recorded (a re-run), a card authorization for the
 * total, or on account (the credit check passed). For a card the intent (PENDING, with its
 * idempotency key) is recorded before the provider is called, so compensation knows an
 * authorization may exist even if the function dies before recording it; the same key on a retry
 * makes the provider answer with the first authorization, never a second one.
 */
export async function authorizeOrder(
  deps: { orders: Pick<OrdersRepository, 'recordPaymentIntent'>; payments: Pick<PaymentProvider, 'authorize'> },
  order: Order,
): Promise<PaymentRecord> {
  const { orderId } = order;
  const amount = order.totals?.total ?? 0;
  if (order.paymentRecord && order.paymentRecord.status !== 'PENDING') return order.paymentRecord;
  if (order.payment.method !== 'card') return { method: 'on_account', status: 'ON_ACCOUNT', amount };
  const idempotencyKey = paymentKey(orderId, 'authorize');
  if (!order.paymentRecord)
    await deps.orders.recordPaymentIntent(orderId, { method: 'card', status: 'PENDING', idempotencyKey, amount });
  const { authorizationId } = await deps.payments.authorize({
    idempotencyKey,
    orderId,
    token: order.payment.token,
    amount,
    currency: order.currency,
  });
  return { method: 'card', status: 'AUTHORIZED', authorizationId, idempotencyKey, amount };
}
