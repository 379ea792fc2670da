import { Mailer } from '../adapters/mailer.ts';
import { backorderCancelledEmail } from '../core/emails.ts';
import { OrderClosed } from '../core/errors.ts';
import { OrderRef } from '../core/schemas.ts';
import { cancelBackorderRemainder } from '../lib/backorders.ts';
import { requireEnv } from '../lib/config.ts';
import { backorderLedger, clock, customersRepository, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const ledger = backorderLedger();
const customers = customersRepository();
const recordStage = stageRecorder(orders, eventPublisher(), clock);
const mailer = new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined);

/**
 * ExpireBackorder (AwaitBackorder timed out): what still waits is cancelled; the order keeps what
 * was allocated and the customer is told by e-mail. `allocated: false` (nothing at all was
 * allocated) sends the workflow to cancel the order (BackorderExpired).
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await cancelBackorderRemainder({ orders, ledger }, orderId);
  const cancelled = order.backorder?.cancelledLines ?? [];
  const allocated = (order.allocations ?? []).length > 0;
  if (cancelled.length > 0) {
    try {
      await recordStage(orderId, 'OrderBackorderCancelled', allocated ? { status: 'RESERVED' } : {}, {
        cancelled,
      });
    } catch (error) {
      if (!(error instanceof OrderClosed)) throw error;
    }
    if (!order.stages.OrderBackorderCancelledNotified) {
      const customer = await customers.find(order.customerId);
      if (customer)
        await mailer.send({ to: [customer.email], ...backorderCancelledEmail(orderId, cancelled, allocated) });
      await orders.recordStage(orderId, 'OrderBackorderCancelledNotified', clock()).catch((error: unknown) => {
        if (!(error instanceof OrderClosed)) throw error;
      });
    }
  }
  return { allocated };
});
