import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { SandboxCarrier } from '../adapters/carrier.ts';
import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { OrderClosed } from '../core/errors.ts';
import { interruptedFailure, isTerminal } from '../core/order.ts';
import { OrderId } from '../core/schemas.ts';
import { compensations } from '../lib/compensation.ts';
import { numberEnv } from '../lib/config.ts';
import { clock, creditLedger, eventPublisher, ordersRepository, stockLedger, workflowStarter } from '../lib/deps.ts';
import { logger, metrics, tracer } from '../lib/powertools.ts';
import { stageRecorder } from '../lib/stages.ts';

const orders = ordersRepository();
const workflow = workflowStarter();
const recordStage = stageRecorder(orders, eventPublisher(), clock);
const compensate = compensations({
  orders,
  payments: new SandboxPaymentProvider(),
  carrier: new SandboxCarrier({ deliveryMs: 0 }),
  stock: stockLedger(),
  credit: creditLedger(),
  recordStage,
});
/** The sweep looks at open orders older than this (a live order is left to its workflow). */
const minAgeSeconds = numberEnv('SWEEP_MIN_AGE_SECONDS', 900);
/** At most this many open orders per sweep; the next sweep continues. */
const batchSize = numberEnv('SWEEP_BATCH_SIZE', 200);

type StatusChange = EventBridgeEvent<'Step Functions Execution Status Change', { name?: string; status?: string }>;
type Scheduled = EventBridgeEvent<'Scheduled Event', Record<string, never>>;

/**
 * Compensates an order whose workflow ended without closing it (stopped, timed out, failed
 * outside its Catch paths) and ends it FAILED WorkflowInterrupted. A closed order is left alone;
 * running twice, or beside the workflow's own compensation, is safe: every step is idempotent.
 */
async function reconcile(orderId: string, executionStatus: string): Promise<'closed' | 'already-closed'> {
  const order = await orders.find(orderId);
  if (!order || isTerminal(order.status)) return 'already-closed';
  const failed: string[] = [];
  const attempt = async (step: string, run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (error) {
      failed.push(step);
      logger.error('Compensation step failed', { step, error: (error as Error).name });
    }
  };
  await attempt('payment', () => compensate.voidPayment(orderId));
  await attempt('shipment', () => compensate.cancelShipments(orderId));
  await attempt('stock', () => compensate.releaseStock(orderId));
  await attempt('credit', () => compensate.releaseCredit(orderId));
  const failure = interruptedFailure(executionStatus, failed);
  if (failed.length > 0) {
    metrics.addMetric('CompensationFailed', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  }
  try {
    await recordStage(orderId, 'OrderFailed', { status: 'FAILED', set: { failure } }, { failureCode: failure.code });
  } catch (error) {
    if (!(error instanceof OrderClosed)) throw error;
    return 'already-closed'; // closed concurrently (another reconciler, or a late step of the workflow)
  }
  logger.warn('Interrupted order compensated and failed', { executionStatus, compensationFailed: failed });
  return 'closed';
}

/** Finds open orders old enough to be stuck: starts those never started, reconciles those whose workflow ended. */
async function sweep(): Promise<{ checked: number; started: number; reconciled: number }> {
  const cutoff = new Date(clock().getTime() - minAgeSeconds * 1000);
  const ids = await orders.openOrdersCreatedBefore(cutoff, batchSize);
  let started = 0;
  let reconciled = 0;
  for (const orderId of ids) {
    try {
      const status = await workflow.status(orderId);
      if (status === 'RUNNING') continue;
      if (status === undefined) {
        const order = await orders.find(orderId);
        if (order?.status === 'RECEIVED') {
          // Written, but its workflow never started (StartExecution failed and the caller gave up).
          await workflow.start(orderId);
          started++;
          continue;
        }
      }
      if ((await reconcile(orderId, status ?? 'MISSING')) === 'closed') reconciled++;
    } catch (error) {
      // One bad order must not stop the sweep; the next sweep tries it again.
      logger.error('Sweep could not reconcile an order', { orderId, error: (error as Error).name });
    }
  }
  logger.info('Sweep done', { checked: ids.length, started, reconciled });
  return { checked: ids.length, started, reconciled };
}

/**
 * The reconciler: invoked by EventBridge for executions that ended ABORTED, TIMED_OUT or FAILED
 * (the order is the execution's name), and on a schedule to sweep orders left open.
 */
export const handler = middy(async (event: StatusChange | Scheduled) => {
  if (event['detail-type'] === 'Scheduled Event') return sweep();
  const detail = (event as StatusChange).detail ?? {};
  const orderId = OrderId.safeParse(detail.name);
  if (!orderId.success) {
    logger.warn('Status change for an execution that is not an order', { status: detail.status });
    return { outcome: 'ignored' };
  }
  logger.appendKeys({ orderId: orderId.data });
  return { outcome: await reconcile(orderId.data, String(detail.status)) };
})
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(logger, { resetKeys: true }));
