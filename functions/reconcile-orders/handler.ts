import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { backoff } from '../adapters/backoff.ts';
import { OrderClosed } from '../core/errors.ts';
import { interruptedFailure, isTerminal, missingAfterInterruption } from '../core/order.ts';
import { OrderId } from '../core/schemas.ts';
import { finishDecision } from '../lib/approval-decision.ts';
import { numberEnv } from '../lib/config.ts';
import {
  approvalsRepository,
  backorderServer,
  clock,
  eventPublisher,
  invoicesRepository,
  orderCompensations,
  ordersRepository,
  stockRepository,
  taskTokens,
  workflowStarter,
} from '../lib/deps.ts';
import { logger, metrics, tracer } from '../lib/powertools.ts';
import { stageRecorder } from '../lib/stages.ts';

const orders = ordersRepository();
const workflow = workflowStarter();
const recordStage = stageRecorder(orders, eventPublisher(), clock);
const compensate = orderCompensations(orders, recordStage, invoicesRepository());
const stock = stockRepository();
const backorders = backorderServer();
const approvals = approvalsRepository();
const tokens = taskTokens();
/** The sweep looks at open orders older than this (a live order is left to its workflow). */
const minAgeSeconds = numberEnv('SWEEP_MIN_AGE_SECONDS', 900);
/** Open orders read per page of the index; the sweep pages through all of them within its time budget. */
const pageSize = numberEnv('SWEEP_BATCH_SIZE', 200);
/** Time kept back from the function's timeout: the sweep stops paging when less is left. */
const SWEEP_RESERVE_MS = 30_000;
/** Reconciler runs per order before a compensation step that still fails is left to ops. */
const maxAttempts = numberEnv('RECONCILE_MAX_ATTEMPTS', 5);
/** Tries of each compensation step within one run, with exponential backoff and full jitter. */
const stepAttempts = numberEnv('RECONCILE_STEP_ATTEMPTS', 4);
const STEP_BACKOFF_MS = 200;
/**
 * How long after the fence a delivered order without its invoice is left open: IssueInvoice does not
 * check the fence, and an invocation still running after StopExecution (at most its 60 s timeout)
 * may yet issue it. Twice its timeout; Lambda's retries (about 1 and 2 minutes) and the sweep come back.
 */
const invoiceGraceSeconds = numberEnv('RECONCILE_INVOICE_GRACE_SECONDS', 120);

type StatusChange = EventBridgeEvent<'Step Functions Execution Status Change', { name?: string; status?: string }>;
type Scheduled = EventBridgeEvent<'Scheduled Event', Record<string, never>>;

/** A compensation step still failed after its retries; the order stays open (fenced) for the next run. */
export class CompensationIncomplete extends Error {
  override name = 'CompensationIncomplete';
}

/** A delivered order's invoice may still be being issued by a task of the stopped execution: not closed yet. */
export class InvoiceMayBeInFlight extends Error {
  override name = 'InvoiceMayBeInFlight';
}

/** Runs a step, retrying any error with backoff (stock contention, a provider's 5xx, a lost response). */
async function withRetries(step: string, run: () => Promise<unknown>): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run();
      return true;
    } catch (error) {
      logger.warn('Compensation step failed', { step, attempt, error: (error as Error).name });
      if (attempt >= stepAttempts) return false;
      await backoff(attempt - 1, STEP_BACKOFF_MS, Number.POSITIVE_INFINITY);
    }
  }
}

/**
 * Compensates an order whose workflow ended without closing it (stopped, timed out, failed
 * outside its Catch paths) and ends it FAILED WorkflowInterrupted. First it fences the order
 * (`closing`): a task still running refuses to authorize or book from then on. Each step is
 * retried in place; a step that still fails leaves the order open and fenced and the run fails
 * (Lambda's retries and the next sweep run it again) until the last allowed attempt, which closes
 * the order saying what was not given back. A captured payment or goods that left are not undone:
 * the failure says what is missing and alarms. Running twice, or beside the workflow's own
 * compensation, is safe: every step is idempotent. On an order it already failed, it announces
 * OrderFailed again (the first publish may have been lost; consumers are idempotent).
 */
async function reconcile(orderId: string, executionStatus: string): Promise<'closed' | 'already-closed'> {
  const order = await orders.find(orderId);
  if (!order) return 'already-closed';
  if (isTerminal(order.status)) return announceAgain(orderId, order.failure?.code);
  let attempts: number;
  let closing: string;
  try {
    ({ attempts, closing } = await orders.fence(orderId, clock()));
  } catch (error) {
    if (!(error instanceof OrderClosed)) throw error;
    return announceAgain(orderId, (await orders.find(orderId))?.failure?.code);
  }
  // A delivered order without its invoice waits a while first: a task of the stopped execution may
  // still issue it, and compensating now would withdraw its request and give its credit back.
  const invoicing = order.shipments.some((s) => !s.invoiceNumber && (s.captureId || s.status === 'DELIVERED'));
  if (invoicing && attempts < maxAttempts && clock().getTime() - Date.parse(closing) < invoiceGraceSeconds * 1000) {
    logger.warn('Delivered order not invoiced yet; left open while an invoice may still be issued', { attempts });
    throw new InvoiceMayBeInFlight(
      `Order ${orderId} may still be invoiced by its stopped workflow (attempt ${attempts})`,
    );
  }
  const failed: string[] = [];
  let captured = false;
  const steps: [string, () => Promise<unknown>][] = [
    ['payment', async () => (captured = (await compensate.voidPayment(orderId)) === 'captured')],
    ['shipment', () => compensate.cancelShipments(orderId)],
    ['stock', () => compensate.releaseStock(orderId)],
    ['credit', () => compensate.releaseCredit(orderId)],
  ];
  for (const [step, run] of steps) if (!(await withRetries(step, run))) failed.push(step);
  if (failed.length > 0 && attempts < maxAttempts) {
    logger.error('Compensation incomplete; the order stays open for the next attempt', { failed, attempts });
    throw new CompensationIncomplete(
      `Compensation of ${orderId} failed for: ${failed.join(', ')} (attempt ${attempts})`,
    );
  }
  const after = await orders.get(orderId);
  const missing = missingAfterInterruption(after);
  const invoiced = after.shipments.length > 0 && after.shipments.every((s) => s.invoiceNumber);
  const failure = interruptedFailure(executionStatus, failed, missing, after.payment.method, invoiced);
  if (failed.length > 0) metrics.addMetric('CompensationFailed', MetricUnit.Count, 1);
  if (missing.length > 0) metrics.addMetric('OrderNotSettled', MetricUnit.Count, 1);
  if (failed.length > 0 || missing.length > 0) metrics.publishStoredMetrics();
  try {
    await recordStage(orderId, 'OrderFailed', { status: 'FAILED', set: { failure } }, { failureCode: failure.code });
  } catch (error) {
    if (!(error instanceof OrderClosed)) throw error;
    return 'already-closed'; // closed concurrently (another reconciler, or a late step of the workflow)
  }
  logger.warn('Interrupted order failed', { executionStatus, compensationFailed: failed, missing, captured });
  return 'closed';
}

/** A closed order this reconciler failed: OrderFailed is published again (recorded once). */
async function announceAgain(orderId: string, failureCode: string | undefined): Promise<'already-closed'> {
  if (failureCode === 'WorkflowInterrupted') await recordStage(orderId, 'OrderFailed', {}, { failureCode });
  return 'already-closed';
}

/**
 * Finds open orders old enough to be stuck, paging through the whole open-orders index within the
 * function's time: starts those never started, reconciles those whose workflow ended.
 */
async function sweep(
  context: Context,
): Promise<{ checked: number; started: number; reconciled: number; failed: number; backordersServed: number }> {
  const cutoff = new Date(clock().getTime() - minAgeSeconds * 1000);
  let checked = 0;
  let started = 0;
  let reconciled = 0;
  let failed = 0;
  pages: for await (const ids of orders.openOrdersCreatedBefore(cutoff, pageSize)) {
    for (const orderId of ids) {
      if (context.getRemainingTimeInMillis() < SWEEP_RESERVE_MS) break pages; // the next sweep goes on
      checked++;
      try {
        const status = await workflow.status(orderId);
        if (status === 'RUNNING') {
          // Filled, but its workflow was not resumed (the filler failed in between): resume it.
          const order = await orders.find(orderId);
          if (order?.status === 'RESERVED' && order.backorder?.taskToken && order.backorder.lines.length === 0)
            await backorders.resumeWith(orderId);
          // Decided, but the waiting workflow was never told (a crash or a failed SendTask call): tell it.
          else if (order?.approval && !isTerminal(order.status))
            await finishDecision({ approvals, orders, workflow: tokens, clock }, order.approval.approvalId);
          continue;
        }
        if (status === undefined) {
          const order = await orders.find(orderId);
          if (order?.status === 'RECEIVED' && !order.closing) {
            // Written, but its workflow never started (StartExecution failed and the caller gave up).
            await workflow.start(orderId);
            started++;
            continue;
          }
        }
        if ((await reconcile(orderId, status ?? 'MISSING')) === 'closed') reconciled++;
      } catch (error) {
        // One bad order must not stop the sweep; the next sweep tries it again.
        failed++;
        logger.error('Sweep could not reconcile an order', { orderId, error: (error as Error).name });
      }
    }
  }
  const backordersServed = await serveWaitingBackorders(context);
  logger.info('Sweep done', { checked, started, reconciled, failed, backordersServed });
  return { checked, started, reconciled, failed, backordersServed };
}

/**
 * Stock that is available while orders wait for it (a stock route failed after changing the stock
 * but before serving them): the waiting orders are served, oldest first. Idempotent: a fill is
 * conditional on the backorder and the stock as read.
 */
async function serveWaitingBackorders(context: Context): Promise<number> {
  const skus = [...new Set((await stock.list()).filter((item) => item.available > 0).map((item) => item.sku))];
  let served = 0;
  for (const sku of skus) {
    if (context.getRemainingTimeInMillis() < SWEEP_RESERVE_MS) break; // the next sweep goes on
    try {
      served += await backorders.serve(sku);
    } catch (error) {
      logger.error('Sweep could not serve backorders', { sku, error: (error as Error).name });
    }
  }
  return served;
}

/**
 * The reconciler: invoked by EventBridge for executions that ended ABORTED, TIMED_OUT or FAILED
 * (the order is the execution's name), and on a schedule to sweep orders left open.
 */
export const handler = middy(async (event: StatusChange | Scheduled, context: Context) => {
  if (event['detail-type'] === 'Scheduled Event') return sweep(context);
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
