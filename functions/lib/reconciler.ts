import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { ApprovalsRepository } from '../adapters/approvals-repository.ts';
import { backoff } from '../adapters/backoff.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import type { StockRepository } from '../adapters/stock-repository.ts';
import type { TaskTokens, WorkflowStarter } from '../adapters/workflow-client.ts';
import { DEFAULT_DELIVERY_SLA_DAYS, deliveryOverdueSince } from '../core/delivery-sla.ts';
import { OrderClosed } from '../core/errors.ts';
import { interruptedFailure, isTerminal, missingAfterInterruption } from '../core/order.ts';
import { finishDecision } from './approval-decision.ts';
import type { backorders as backorderService } from './backorders.ts';
import type { compensations } from './compensation.ts';
import { numberEnv } from './config.ts';
import type { feedbackPublisher } from './feedback.ts';
import { metrics } from './metrics.ts';
import { logger, orderScope } from './powertools.ts';
import type { stageRecorder } from './stages.ts';

/** A compensation step still failed after its retries; the order stays open (fenced) for the next run. */
export class CompensationIncomplete extends Error {
  override name = 'CompensationIncomplete';
}

/** A delivered order's invoice may still be being issued by a task of the stopped execution: not closed yet. */
export class InvoiceMayBeInFlight extends Error {
  override name = 'InvoiceMayBeInFlight';
}

export interface ReconcilerDeps {
  orders: OrdersRepository;
  workflow: Pick<WorkflowStarter, 'status' | 'start'>;
  recordStage: ReturnType<typeof stageRecorder>;
  compensate: ReturnType<typeof compensations>;
  stock: Pick<StockRepository, 'list'>;
  backorders: Pick<ReturnType<typeof backorderService>, 'serve' | 'resumeWith'>;
  approvals: ApprovalsRepository;
  tokens: TaskTokens;
  /** Publishes a stored survey answer's FeedbackReceived and marks it published. */
  publishFeedback: ReturnType<typeof feedbackPublisher>;
  clock: () => Date;
}

export interface ReconcilerSettings {
  /** The sweep looks at open orders older than this (a live order is left to its workflow). */
  minAgeSeconds: number;
  /** Open orders read per page of the index; the sweep pages through all of them within its time budget. */
  pageSize: number;
  /** Time kept back from the function's timeout: the sweep stops paging when less is left. */
  reserveMs: number;
  /** Reconciler runs per order before a compensation step that still fails is left to ops. */
  maxAttempts: number;
  /** Tries of each compensation step within one run, with exponential backoff and full jitter. */
  stepAttempts: number;
  stepBackoffMs: number;
  /**
   * How long after the fence a delivered order without its invoice is left open: IssueInvoice does not
   * check the fence, and an invocation still running after StopExecution (at most its 60 s timeout)
   * may yet issue it.
   */
  invoiceGraceSeconds: number;
  /** Days after its shipment a parcel still waiting for delivery counts as overdue (DeliveriesOverdue). */
  deliverySlaDays: number;
  /**
   * How long a survey answer may stay unpublished before the sweep publishes it: its own request
   * publishes it within seconds (the route's timeout is 30 s) unless it failed.
   */
  feedbackGraceSeconds: number;
  /**
   * The survey-answer step's own share of the run: it goes first (so a long open-orders pass never
   * starves it) and leaves the rest of the time to the orders.
   */
  feedbackBudgetMs: number;
}

/** The settings from the environment (read once, at INIT), with their defaults. */
export const reconcilerSettings = (): ReconcilerSettings => ({
  minAgeSeconds: numberEnv('SWEEP_MIN_AGE_SECONDS', 900),
  pageSize: numberEnv('SWEEP_BATCH_SIZE', 200),
  reserveMs: 30_000,
  maxAttempts: numberEnv('RECONCILE_MAX_ATTEMPTS', 5),
  stepAttempts: numberEnv('RECONCILE_STEP_ATTEMPTS', 4),
  stepBackoffMs: 200,
  // Twice IssueInvoice's timeout; Lambda's retries (about 1 and 2 minutes) and the sweep come back.
  invoiceGraceSeconds: numberEnv('RECONCILE_INVOICE_GRACE_SECONDS', 120),
  deliverySlaDays: numberEnv('DELIVERY_SLA_DAYS', DEFAULT_DELIVERY_SLA_DAYS),
  feedbackGraceSeconds: numberEnv('FEEDBACK_PUBLISH_GRACE_SECONDS', 300),
  feedbackBudgetMs: 30_000,
});

export interface SweepResult {
  checked: number;
  started: number;
  reconciled: number;
  failed: number;
  backordersServed: number;
  /** Open orders with a parcel shipped longer ago than the delivery SLA, still waiting for the carrier. */
  deliveriesOverdue: number;
  /** Survey answers whose FeedbackReceived a failed request left unpublished, published now. */
  feedbackPublished: number;
}

/** The reconciler of interrupted orders (`reconcile`) and its scheduled sweep of orders left open (`sweep`). */
export function reconciler(deps: ReconcilerDeps, settings: ReconcilerSettings) {
  const { orders, recordStage, compensate, clock } = deps;

  /** Runs a step, retrying any error with backoff (stock contention, a provider's 5xx, a lost response). */
  async function withRetries(step: string, run: () => Promise<unknown>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await run();
        return true;
      } catch (error) {
        logger.warn('Compensation step failed', { step, attempt, error: (error as Error).name });
        if (attempt >= settings.stepAttempts) return false;
        await backoff(attempt - 1, settings.stepBackoffMs, Number.POSITIVE_INFINITY);
      }
    }
  }

  /** A closed order this reconciler failed: OrderFailed is published again (recorded once). */
  async function announceAgain(orderId: string, failureCode: string | undefined): Promise<'already-closed'> {
    if (failureCode === 'WorkflowInterrupted') await recordStage(orderId, 'OrderFailed', {}, { failureCode });
    return 'already-closed';
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
    const fencedMs = clock().getTime() - Date.parse(closing);
    if (invoicing && attempts < settings.maxAttempts && fencedMs < settings.invoiceGraceSeconds * 1000) {
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
    if (failed.length > 0 && attempts < settings.maxAttempts) {
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

  /** One open order of the sweep: resumed, started or reconciled as its execution's status says. */
  async function sweepOne(orderId: string): Promise<'started' | 'reconciled' | 'left' | 'overdue'> {
    const status = await deps.workflow.status(orderId);
    if (status === 'RUNNING') {
      // Filled, but its workflow was not resumed (the filler failed in between): resume it, whatever
      // stage it reached (after a first shipment it is SHIPPED or DELIVERED). A token already used is refused.
      const order = await orders.find(orderId);
      if (order && !isTerminal(order.status) && order.backorder?.taskToken && order.backorder.lines.length === 0)
        await deps.backorders.resumeWith(orderId);
      // Decided, but the waiting workflow was never told (a crash or a failed SendTask call): tell it.
      else if (order?.approval && !isTerminal(order.status))
        await finishDecision(
          { approvals: deps.approvals, orders, workflow: deps.tokens, clock },
          order.approval.approvalId,
        );
      const overdueSince = order && deliveryOverdueSince(order, clock(), settings.deliverySlaDays);
      if (overdueSince) {
        // The id is what ops look the execution up by (README, Operations runbook > DeliveriesOverdue);
        // shippedAt is when the oldest parcel still on its way left.
        logger.warn('Delivery overdue', { orderId, shippedAt: overdueSince });
        return 'overdue';
      }
      return 'left';
    }
    if (status === undefined) {
      const order = await orders.find(orderId);
      if (order?.status === 'RECEIVED' && !order.closing) {
        // Written, but its workflow never started (StartExecution failed and the caller gave up).
        await deps.workflow.start(orderId);
        return 'started';
      }
    }
    return (await reconcile(orderId, status ?? 'MISSING')) === 'closed' ? 'reconciled' : 'left';
  }

  /**
   * Finds open orders old enough to be stuck, paging through the whole open-orders index within the
   * function's time: starts those never started, reconciles those whose workflow ended. Survey answers
   * left unpublished go first, within their own budget; backorders waiting for available stock last.
   */
  async function sweep(context: Context): Promise<SweepResult> {
    const cutoff = new Date(clock().getTime() - settings.minAgeSeconds * 1000);
    const result: SweepResult = {
      checked: 0,
      started: 0,
      reconciled: 0,
      failed: 0,
      backordersServed: 0,
      deliveriesOverdue: 0,
      feedbackPublished: 0,
    };
    try {
      result.feedbackPublished = await publishLeftFeedback(context);
      pages: for await (const ids of orders.openOrdersCreatedBefore(cutoff, settings.pageSize)) {
        for (const orderId of ids) {
          if (context.getRemainingTimeInMillis() < settings.reserveMs) break pages; // the next sweep goes on
          result.checked++;
          // Each order's lines name it, the next order's do not.
          await orderScope(async () => {
            try {
              const outcome = await sweepOne(orderId);
              if (outcome === 'overdue') result.deliveriesOverdue++;
              else if (outcome !== 'left') result[outcome]++;
            } catch (error) {
              // One bad order must not stop the sweep; the next sweep tries it again.
              result.failed++;
              logger.error('Sweep could not reconcile an order', { orderId, error: (error as Error).name });
            }
          }, orderId);
        }
      }
      result.backordersServed = await serveWaitingBackorders(context);
    } finally {
      // Every run, zero included, also one that failed part-way: the alarm sees the current count.
      metrics.addMetric('DeliveriesOverdue', MetricUnit.Count, result.deliveriesOverdue);
      metrics.publishStoredMetrics();
    }
    logger.info('Sweep done', { ...result });
    return result;
  }

  /**
   * Stock that is available while orders wait for it (a stock route failed after changing the stock
   * but before serving them): the waiting orders are served, oldest first. Idempotent: a fill is
   * conditional on the backorder and the stock as read.
   */
  async function serveWaitingBackorders(context: Context): Promise<number> {
    const available = (await deps.stock.list()).filter((item) => item.available > 0);
    const skus = [...new Set(available.map((item) => item.sku))];
    let served = 0;
    for (const sku of skus) {
      if (context.getRemainingTimeInMillis() < settings.reserveMs) break; // the next sweep goes on
      try {
        // A long queue is served as far as the run's time allows; the next sweep goes on.
        served += await deps.backorders.serve(sku, () => context.getRemainingTimeInMillis() >= settings.reserveMs);
      } catch (error) {
        logger.error('Sweep could not serve backorders', { sku, error: (error as Error).name });
      }
    }
    return served;
  }

  /**
   * Survey answers stored longer ago than the grace period whose FeedbackReceived is still unpublished
   * (the request failed or died between writing and publishing, and nobody came back): published now,
   * the stored answer under its one event id. Oldest first, a page per run within the step's budget;
   * the next run goes on. Nothing here fails the sweep: the orders are swept all the same.
   */
  async function publishLeftFeedback(context: Context): Promise<number> {
    const cutoff = new Date(clock().getTime() - settings.feedbackGraceSeconds * 1000);
    const stopBelow = Math.max(settings.reserveMs, context.getRemainingTimeInMillis() - settings.feedbackBudgetMs);
    let published = 0;
    try {
      for (const { orderId, customerId, createdAt, feedback } of await orders.unpublishedFeedbackBefore(
        cutoff,
        settings.pageSize,
      )) {
        if (context.getRemainingTimeInMillis() < stopBelow) break;
        await orderScope(async () => {
          try {
            await deps.publishFeedback({ orderId, customerId, createdAt }, feedback);
            published++;
          } catch (error) {
            logger.error('Sweep could not publish a survey answer', { orderId, error: (error as Error).name });
          }
        }, orderId);
      }
    } catch (error) {
      logger.error('Sweep could not read the survey answers left unpublished', { error: (error as Error).name });
    }
    return published;
  }

  return { reconcile, sweep };
}
