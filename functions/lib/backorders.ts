import type { Context } from 'aws-lambda';
import { backoff } from '../adapters/backoff.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import type { BackorderLedger } from '../adapters/stock-repository.ts';
import type { TaskTokens } from '../adapters/workflow-client.ts';
import { OrderClosed, StockContention } from '../core/errors.ts';
import { isTerminal } from '../core/order.ts';
import { toShip } from '../core/shipment.ts';
import { logger } from './powertools.ts';
import type { stageRecorder } from './stages.ts';

/** Tries per order when its backorder or the stock changed between read and write, or another write was under way. */
const FILL_ATTEMPTS = 3;

/** Time a serving caller keeps back from its function's timeout: the last fill, its retries and the answer. */
const SERVE_RESERVE_MS = 10_000;

/**
 * `keepGoing` for a function serving queues: while it has time left. A long queue is served as far
 * as that; the rest is left to the next serve (a stock route, the sweep), not to a timed-out call
 * (a route's caller would send its change again; a workflow task is retried, then fails its order).
 */
export const whileTimeLeft = (context: Pick<Context, 'getRemainingTimeInMillis'>) => () =>
  context.getRemainingTimeInMillis() > SERVE_RESERVE_MS;

/**
 * Serves backorders when stock arrives: the orders waiting for the SKU, oldest first, each as much
 * as the stock allows (ship_available), then the next. An order whose backorder is filled resumes
 * its workflow (AwaitBackorder's task token); one still waiting keeps what it got.
 */
export function backorders(deps: {
  orders: OrdersRepository;
  ledger: BackorderLedger;
  tokens: TaskTokens;
  clock: () => Date;
  recordStage: ReturnType<typeof stageRecorder>;
}) {
  /** Resumes a waiting workflow with the allocations to ship (the token parked, or given). */
  const resumeWith = async (orderId: string, token?: string) => {
    const order = await deps.orders.get(orderId);
    const taskToken = token ?? order.backorder?.taskToken;
    if (!taskToken || (order.backorder?.lines.length ?? 0) > 0) return;
    try {
      // FulfilShipments ships the new allocations only (those without a shipment yet).
      await deps.tokens.succeed(taskToken, { orderId, allocations: toShip(order), backordered: false });
    } catch (error) {
      // Resumed already (by the other side of the race) or timed out: nothing to resume.
      const name = (error as Error).name;
      if (name !== 'TaskTimedOut' && name !== 'InvalidToken' && name !== 'TaskDoesNotExist') throw error;
    }
  };

  /**
   * Serves one order's backorder as far as stock allows: whether something was served, and the SKUs it
   * still waits for (none when it is closed or cancelled).
   */
  const serveOrder = async (orderId: string): Promise<{ served: boolean; waitsFor: string[] }> => {
    let waitsFor: string[] = [];
    for (let attempt = 1; attempt <= FILL_ATTEMPTS; attempt++) {
      const order = await deps.orders.get(orderId);
      // A cancelled order is skipped (FIFO goes on to the next); the fill's transaction checks it too.
      if (isTerminal(order.status) || order.cancellation || !order.backorder || order.backorder.lines.length === 0)
        return { served: false, waitsFor: [] };
      waitsFor = order.backorder.lines.map((line) => line.sku);
      let filled: Awaited<ReturnType<BackorderLedger['fill']>>;
      try {
        filled = await deps.ledger.fill(
          { orderId, allocations: order.allocations ?? [], backorder: order.backorder },
          deps.clock(),
        );
      } catch (error) {
        // Another serve (a stock route, a parking order, the sweep) was filling the same order or stock
        // item at that moment: read again after a short wait; the last try's contention goes to the caller.
        if (!(error instanceof StockContention) || attempt >= FILL_ATTEMPTS) throw error;
        await backoff(attempt, 25, 400);
        continue;
      }
      if (!filled) continue;
      logger.info('Backorder served', { orderId, allocations: filled.allocations.length, rest: filled.rest });
      if (filled.rest.length === 0) {
        await deps.recordStage(orderId, 'OrderBackorderFilled', { status: 'RESERVED' }).catch((error: unknown) => {
          if (!(error instanceof OrderClosed)) throw error;
        });
        await resumeWith(orderId);
      }
      return { served: true, waitsFor: filled.rest.map((line) => line.sku) };
    }
    return { served: false, waitsFor };
  };

  /** What of this SKU is available, all warehouses together. */
  const available = async (sku: string) =>
    (await deps.ledger.levels([sku])).reduce((sum, item) => sum + item.available, 0);

  /**
   * Serves the orders waiting for this SKU, oldest first, page after page while stock is left
   * (entries of cancelled orders are skipped, never starving younger ones) and `keepGoing()` allows
   * (the caller's time): how many got stock, and whether every order listed was reached with stock left.
   */
  const walk = async (sku: string, keepGoing: () => boolean) => {
    let served = 0;
    // An order reached that still waits for this SKU took all there was of it: the queue ran dry there.
    let ranDry = false;
    for await (const page of deps.ledger.waitingPages(sku)) {
      for (const orderId of page) {
        // None left: the younger orders get nothing either, and are not read.
        if (!keepGoing() || (await available(sku)) <= 0) return { served, reachedAll: false };
        const outcome = await serveOrder(orderId);
        if (outcome.served) served++;
        ranDry ||= outcome.waitsFor.includes(sku);
      }
    }
    return { served, reachedAll: !ranDry };
  };

  /** Serves the orders waiting for this SKU, oldest first (see `walk`); returns how many got stock. */
  const serve = async (sku: string, keepGoing: () => boolean = () => true): Promise<number> =>
    (await walk(sku, keepGoing)).served;

  return {
    resumeWith,
    serve,
    /**
     * Serves the queues an order waits in (each SKU of its backorder), oldest first, as arriving
     * stock does: stock already there when it parks (a release, or a stock route that has not served
     * yet or failed before serving) goes to the oldest waiting order, not to the one that parks; what
     * is left after them is its own.
     * Its token is parked by then, so this is a courtesy to the others, within `keepGoing()` (the
     * task's time): a failure serving them (a fill that kept meeting another serve, a resume refused)
     * leaves the rest to the stock routes and the sweep rather than failing this order's wait. Its
     * own backorder, if filled meanwhile, is resumed; a failure of that goes to the caller (the
     * workflow's retry parks again, finds it filled and resumes).
     */
    async serveQueuesOf(orderId: string, keepGoing: () => boolean = () => true): Promise<number> {
      let served = 0;
      try {
        const order = await deps.orders.get(orderId);
        let reachedAll = true;
        for (const { sku } of order.backorder?.lines ?? []) {
          const queue = await walk(sku, keepGoing);
          served += queue.served;
          reachedAll &&= queue.reachedAll;
        }
        // The index is eventually consistent: an order that reserved a moment ago may not be listed yet.
        // Stock still there once every order listed was served is its own. Not when a queue ran dry: stock
        // arriving after that (a stock route about to serve) is the older orders'.
        if (reachedAll && keepGoing()) {
          const skus = ((await deps.orders.get(orderId)).backorder?.lines ?? []).map((line) => line.sku);
          const inStock = skus.length > 0 && (await deps.ledger.levels(skus)).some((item) => item.available > 0);
          if (inStock && (await serveOrder(orderId)).served) served++;
        }
      } catch (error) {
        logger.warn('Waiting orders not served when this one parked; left to the stock routes and the sweep', {
          error: (error as Error).name,
        });
        await resumeWith(orderId);
      }
      return served;
    },
  };
}

/**
 * Cancels what an order still waits for (its backorder expired), retrying when the backorder changed
 * meanwhile (stock arrived for a line); returns the order as stored afterwards.
 */
export async function cancelBackorderRemainder(
  deps: { orders: Pick<OrdersRepository, 'get'>; ledger: Pick<BackorderLedger, 'cancelRemainder'> },
  orderId: string,
) {
  let order = await deps.orders.get(orderId);
  for (let attempt = 1; (order.backorder?.lines.length ?? 0) > 0; attempt++) {
    const cancelled = await deps.ledger.cancelRemainder(orderId, order.backorder?.lines ?? []);
    order = await deps.orders.get(orderId);
    if (cancelled) break;
    if (attempt >= FILL_ATTEMPTS) throw new Error(`The backorder of ${orderId} kept changing while it was cancelled`);
  }
  return order;
}
