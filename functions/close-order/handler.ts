import { failureFrom } from '../core/order.ts';
import { CloseOrderInput } from '../core/schemas.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { logger } from '../lib/powertools.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const recordStage = stageRecorder(ordersRepository(), eventPublisher(), clock);

/** RejectOrder / FailOrder: the terminal status with the failure code and message the workflow caught. */
export const handler = workflowTask(CloseOrderInput, async ({ orderId, outcome, error }) => {
  const failure = failureFrom(error);
  const stage = outcome === 'REJECTED' ? 'OrderRejected' : 'OrderFailed';
  await recordStage(orderId, stage, { status: outcome, set: { failure } }, { failureCode: failure.code });
  logger.info('Order closed', { outcome, failureCode: failure.code });
  return failure;
});
