import { OrderClosed } from '../core/errors.ts';
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
