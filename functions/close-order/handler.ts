import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { Mailer } from '../adapters/mailer.ts';
import { cancelledFailure } from '../core/cancellation.ts';
import { OrderClosed } from '../core/errors.ts';
import { CLOSING_EVENT } from '../core/events.ts';
import { chargedButLost, failureFrom, invoicedNote, missingAfterInterruption } from '../core/order.ts';
import { CloseOrderInput } from '../core/schemas.ts';
import { notifyCancelled } from '../lib/cancellation.ts';
import { requireEnv } from '../lib/config.ts';
import {
  clock,
  creditLedger,
  customersRepository,
  eventPublisher,
  invoicesRepository,
  ordersRepository,
} from '../lib/deps.ts';
import { metrics } from '../lib/metrics.ts';
import { logger } from '../lib/powertools.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const recordStage = stageRecorder(orders, eventPublisher(), clock);
const credit = creditLedger();
const invoices = invoicesRepository();
const customers = customersRepository();
const mailer = new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined);

/**
 * RejectOrder / FailOrder / CancelOrder / CloseCancelledOrder: the terminal status with the failure
 * code and a message the workflow caught (generic unless it is one of ours); credit held is given
 * back. When a compensation state failed, the failure says which, and the CompensationFailed metric
 * (alarmed) counts it. A cancellation (OrderCancelled) says who and why, and tells the customer.
 */
export const handler = workflowTask(CloseOrderInput, async ({ orderId, outcome, error }) => {
  let failure = failureFrom(error);
  const order = outcome === 'FAILED' || error.Error === 'OrderCancelled' ? await orders.get(orderId) : undefined;
  if (order?.cancellation && error.Error === 'OrderCancelled') failure = cancelledFailure(order.cancellation, failure);
  if (outcome === 'FAILED' && order) {
    // Shipments that went (or were charged for) stay: the failure says what is owed and what stands.
    const missing = missingAfterInterruption(order);
    const notes = [
      missing.length > 0 ? `Missing for shipments that went: ${missing.join(', ')}; left for operations to settle` : '',
      chargedButLost(order) ?? '',
      invoicedNote(order) ?? '',
    ].filter(Boolean);
    if (notes.length > 0) failure.message = `${failure.message}. ${notes.join('. ')}`;
    if (missing.length > 0) failure.missing = missing;
  }
  if (failure.compensationFailed) {
    logger.error('Compensation failed; left for ops', { compensationFailed: failure.compensationFailed });
    metrics.addMetric('CompensationFailed', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  }
  // A failed order's invoice requests still waiting for their numbers are withdrawn, so no invoice is
  // issued for them later. Each invoice numbered turned its part of the credit hold into invoiced debt.
  if (outcome === 'FAILED') await invoices.withdraw(orderId);
  // An on-account order that ends here gives back what is left of its credit hold (nothing when it took none).
  await credit.release(orderId);
  // Told before the order closes: a retried close finds the notification recorded and sends nothing again.
  if (outcome === 'CANCELLED' && order?.cancellation)
    await notifyCancelled({ orders, customers, mailer, clock }, order);
  const stage = CLOSING_EVENT[outcome];
  try {
    await recordStage(orderId, stage, { status: outcome, set: { failure } }, { failureCode: failure.code });
  } catch (closed) {
    // Already ended another way (e.g. COMPLETED before a late step failed): nothing left to record.
    if (!(closed instanceof OrderClosed)) throw closed;
    logger.warn('Order already closed; failure not recorded on it', { outcome, failureCode: failure.code });
    return failure;
  }
  logger.info('Order closed', { outcome, failureCode: failure.code });
  return failure;
});
