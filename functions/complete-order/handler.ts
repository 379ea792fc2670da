import { paymentKey, SandboxPaymentProvider } from '../adapters/payments.ts';
import { cycleTimeSeconds } from '../core/order.ts';
import { OrderRef } from '../core/schemas.ts';
import { clock, creditLedger, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const payments = new SandboxPaymentProvider();
const credit = creditLedger();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/**
 * CompleteOrder: every shipment delivered, paid (or on account) and invoiced. A card payment is
 * settled: what was not captured by a shipment (e.g. a cancelled backorder) is voided at the provider.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const record = order.paymentRecord;
  const set: Record<string, unknown> = {};
  if (record?.method === 'card' && record.status !== 'CAPTURED') {
    const captured = record.captured ?? 0;
    if (captured < record.amount)
      await payments.void({ authorizationKey: record.idempotencyKey ?? paymentKey(orderId, 'authorize') });
    set.paymentRecord = { ...record, status: 'CAPTURED', captured };
  }
  // On account: each invoice took its part of the hold; what is left (a backorder that expired or a
  // remainder cancelled after a shipment) is given back. Idempotent: a retry finds it released.
  await credit.release(orderId);
  await recordStage(
    orderId,
    'OrderCompleted',
    { status: 'COMPLETED', set },
    { cycleTimeSeconds: cycleTimeSeconds(order, clock()) },
  );
  return { status: 'COMPLETED' };
});
