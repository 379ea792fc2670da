import { OrderRef } from '../core/schemas.ts';
import { clock, eventPublisher, ordersRepository, stockLedger } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const catalog = stockLedger();
const recordStage = stageRecorder(ordersRepository(), eventPublisher(), clock);

/** ReleaseStock (compensation): returns held stock; nothing to do when none is held or it has shipped. */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const released = await catalog.release(orderId);
  if (released) await recordStage(orderId, 'OrderStockReleased');
  return { released };
});
