import { cycleTimeSeconds } from '../core/order.ts';
import { OrderRef } from '../core/schemas.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/** CompleteOrder: delivered, paid (or on account) and invoiced. */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  await recordStage(
    orderId,
    'OrderCompleted',
    { status: 'COMPLETED' },
    { cycleTimeSeconds: cycleTimeSeconds(order, clock()) },
  );
  return { status: 'COMPLETED' };
});
