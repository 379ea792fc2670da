import type { Context, EventBridgeEvent } from 'aws-lambda';
import { OrderId } from '../core/schemas.ts';
import * as deps from '../lib/deps.ts';
import { feedbackPublisher } from '../lib/feedback.ts';
import { logger, logOrder, observedHandler } from '../lib/powertools.ts';
import { reconciler, reconcilerSettings } from '../lib/reconciler.ts';
import { stageRecorder } from '../lib/stages.ts';

const orders = deps.ordersRepository();
const events = deps.eventPublisher();
const recordStage = stageRecorder(orders, events, deps.clock);
const { reconcile, sweep } = reconciler(
  {
    orders,
    workflow: deps.workflowStarter(),
    recordStage,
    compensate: deps.orderCompensations(orders, recordStage, deps.invoicesRepository()),
    stock: deps.stockRepository(),
    backorders: deps.backorderServer(),
    approvals: deps.approvalsRepository(),
    tokens: deps.taskTokens(),
    publishFeedback: feedbackPublisher({ orders, events, clock: deps.clock }),
    clock: deps.clock,
  },
  reconcilerSettings(),
);

type StatusChange = EventBridgeEvent<'Step Functions Execution Status Change', { name?: string; status?: string }>;
type Scheduled = EventBridgeEvent<'Scheduled Event', Record<string, never>>;

/**
 * The reconciler: invoked by EventBridge for executions that ended ABORTED, TIMED_OUT or FAILED
 * (the order is the execution's name), and on a schedule to sweep orders left open (and survey
 * answers left unpublished).
 */
export const handler = observedHandler(async (event: StatusChange | Scheduled, context: Context) => {
  if (event['detail-type'] === 'Scheduled Event') return sweep(context);
  const detail = (event as StatusChange).detail ?? {};
  const orderId = OrderId.safeParse(detail.name);
  if (!orderId.success) {
    logger.warn('Status change for an execution that is not an order', { status: detail.status });
    return { outcome: 'ignored' };
  }
  logOrder(orderId.data);
  return { outcome: await reconcile(orderId.data, String(detail.status)) };
});
