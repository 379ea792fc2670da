import { SandboxCarrier } from '../adapters/carrier.ts';
import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { OrderRef } from '../core/schemas.ts';
import { compensations } from '../lib/compensation.ts';
import { clock, creditLedger, eventPublisher, ordersRepository, stockLedger } from '../lib/deps.ts';
import { logger } from '../lib/powertools.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const compensate = compensations({
  orders,
  payments: new SandboxPaymentProvider(),
  carrier: new SandboxCarrier({ deliveryMs: 0 }),
  stock: stockLedger(),
  credit: creditLedger(),
  recordStage: stageRecorder(orders, eventPublisher(), clock),
});

/**
 * VoidPayment (compensation): voids an authorization that exists or may exist (by its idempotency
 * key); leaves a captured payment to ops; else nothing. A retry announces OrderPaymentVoided again.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const action = await compensate.voidPayment(orderId);
  // Captured means delivered: money goes back only by decision (a credit note), never automatically.
  if (action === 'captured') logger.warn('Captured payment left for ops to settle');
  return { action };
});
