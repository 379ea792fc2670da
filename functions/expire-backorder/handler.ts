import { Mailer } from '../adapters/mailer.ts';
import { OrderClosed } from '../core/errors.ts';
import { OrderRef } from '../core/schemas.ts';
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
  let order = await orders.get(orderId);
  for (let attempt = 1; (order.backorder?.lines.length ?? 0) > 0; attempt++) {
    if (await ledger.cancelRemainder(orderId, order.backorder?.lines ?? [])) {
      order = await orders.get(orderId);
      break;
    }
    if (attempt >= 3) throw new Error(`The backorder of ${orderId} kept changing while it was cancelled`);
    order = await orders.get(orderId);
  }
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
      if (customer) {
        const list = cancelled.map((l) => `  ${l.quantity} x ${l.sku}`).join('\n');
        await mailer.send({
          to: [customer.email],
          subject: `Order ${orderId}: items no longer available`,
          text: allocated
            ? `We could not get these items in time; they are cancelled and will not be charged:\n${list}\n\nThe rest of your order ships as planned.`
            : `We could not get the items of your order in time; the order is cancelled and nothing is charged:\n${list}`,
        });
      }
      await orders.recordStage(orderId, 'OrderBackorderCancelledNotified', clock()).catch((error: unknown) => {
        if (!(error instanceof OrderClosed)) throw error;
      });
    }
  }
  return { allocated };
});
