import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { backoff } from '../adapters/backoff.ts';
import { paymentKey, SandboxPaymentProvider } from '../adapters/payments.ts';
import { compensationNote, completionOf, cycleTimeSeconds } from '../core/order.ts';
import { OrderRef } from '../core/schemas.ts';
import { clock, creditLedger, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { metrics } from '../lib/metrics.ts';
import { logger } from '../lib/powertools.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const payments = new SandboxPaymentProvider();
const credit = creditLedger();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/** Tries of the void of what was not captured, like VoidPayment's retries (within the task's timeout). */
export const VOID_ATTEMPTS = 5;
const VOID_BACKOFF = { baseMs: 500, capMs: 4_000 };

/** Voids the rest of the authorization; false when the provider still refuses after every try. */
async function voidRest(authorizationKey: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await payments.void({ authorizationKey });
      return true;
    } catch (error) {
      logger.warn('Void of the uncaptured rest failed', { attempt, error: (error as Error).name });
      if (attempt >= VOID_ATTEMPTS) return false;
      await backoff(attempt, VOID_BACKOFF.baseMs, VOID_BACKOFF.capMs);
    }
  }
}

/**
 * CompleteOrder: every shipment delivered, paid (or on account) and invoiced. A card payment is
 * settled: what was not captured by a shipment (e.g. a cancelled backorder) is voided at the provider.
 * A delivered, invoiced order is never failed for that void: when the provider keeps refusing it, the
 * order completes with `compensationFailed: ['payment']` and the alarmed CompensationFailed metric.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const record = order.paymentRecord;
  const set: Record<string, unknown> = {};
  if (record?.method === 'card' && record.status !== 'CAPTURED') {
    const captured = record.captured ?? 0;
    const voided =
      captured >= record.amount || (await voidRest(record.idempotencyKey ?? paymentKey(orderId, 'authorize')));
    set.paymentRecord = { ...record, status: 'CAPTURED', captured };
    if (!voided) {
      set.compensationFailed = ['payment'];
      logger.error(`${compensationNote(['payment'])}: the uncaptured rest of the authorization`, {
        compensationFailed: ['payment'],
      });
      metrics.addMetric('CompensationFailed', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    }
  }
  // On account: each invoice took its part of the hold; what is left (a backorder that expired or a
  // remainder cancelled after a shipment) is given back. Idempotent: a retry finds it released.
  await credit.release(orderId);
  // The cycle time up to the stored completion time: a retry publishes the same event.
  const completion = completionOf(order);
  await recordStage(orderId, 'OrderCompleted', { status: 'COMPLETED', set }, (stored, completedAt) => ({
    ...completion,
    cycleTimeSeconds: cycleTimeSeconds(stored, new Date(completedAt)),
  }));
  return { status: 'COMPLETED' };
});
