/**
 * Flash sale (`npm run bench -- flash`, about 3 to 5 minutes on 2 cores, so not part of the plain
 * `npm run bench`): BENCH_FLASH_BUYERS (2,000) buyers for BENCH_FLASH_UNITS (100) units of one SKU,
 * each buyer its own HTTP client posting one order for one unit. They arrive at
 * BENCH_FLASH_RATE per second (0: all at once, the default: a sale opening at a fixed time).
 *
 * Each buyer then polls GET /orders/{orderId} every 2 s or so until the order ends, as the shop's
 * order page does.
 *
 * The local API throttles as the stage in the template says (API Gateway's token bucket), so most
 * of a crowd arriving at once is answered 429 first. A buyer does what a shop's checkout does: on a
 * 429 it backs off (exponentially, with full jitter, or as long as a Retry-After says) and tries
 * again, the POST with the same Idempotency-Key, so the intake's idempotency keeps it one order; a
 * failed connection or a 503 is retried up to 5 times. 429s, other answers and failed connections
 * are counted apart, for the POSTs and the polls.
 *
 * The buyers run in a process of their own (flash-buyers.ts): the sale measures the runtime's memory
 * and CPU (its thread and its execution environments), not the load's; the buyers' peak RSS is printed
 * apart.
 *
 * Checks: exactly `units` COMPLETED and the rest REJECTED with OutOfStock, every order terminal, no
 * 5xx and no reset or failed connection on either, and the stock items read straight from the table every 100 ms during
 * the sale and once after: never negative, `available = onHand - reserved` in every sample, and at
 * the end `units` fewer on hand (shipped) with nothing left reserved or available.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { TERMINAL_STATUSES } from '../../functions/core/schemas.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { orderBody, sleep, type TestClient } from '../support/runtime.ts';
import { clientProcess } from './client-process.ts';
import { type AnswerCounts, type BuyersOutcome, type BuyersPlan, type BuyersProgress, call } from './flash-buyers.ts';
import { type Check, meets, progress, type ScenarioResult } from './report.ts';

const FLASH = {
  buyers: Number(process.env.BENCH_FLASH_BUYERS ?? 2_000),
  units: Number(process.env.BENCH_FLASH_UNITS ?? 100),
  perSecond: Number(process.env.BENCH_FLASH_RATE ?? 0),
  /** How long after the last order was accepted the outcome is taken. */
  deadlineSeconds: Number(process.env.BENCH_FLASH_DEADLINE_S ?? 600),
};
/** Only in Berlin in the demo data, so the sale's units sit in one stock item. */
const SKU = 'DOCK-4K';
const UNIT_PRICE = 18_900;
const TERMINAL = new Set<string>(TERMINAL_STATUSES);

interface StockLevel {
  warehouseId: string;
  onHand: number;
  reserved: number;
  available: number;
}

const total = (map: Record<string, number>) => Object.values(map).reduce((sum, n) => sum + n, 0);
const fiveHundreds = (answers: AnswerCounts) =>
  Object.entries(answers.byStatus).reduce((sum, [status, n]) => (status.startsWith('5') ? sum + n : sum), 0);
const resets = (answers: AnswerCounts) => answers.connectionErrors.ECONNRESET ?? 0;

/** A process's resident memory in MB (Linux), 0 once it has gone. */
function rssMbOf(pid: number | undefined): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return line ? Number(line[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs the buyers in their own process (flash-buyers.ts), relaying their progress. */
function buyersProcess(plan: BuyersPlan): { pid: number | undefined; outcome: Promise<BuyersOutcome> } {
  return clientProcess<BuyersPlan, BuyersProgress, BuyersOutcome>(
    new URL('./flash-buyers.ts', import.meta.url),
    plan,
    (buying) => progress.update('flash: buying', { ...buying, of: plan.buyers }),
  );
}

export async function flashSale(
  runtime: LocalRuntime,
  client: TestClient,
  referenceMs: number,
): Promise<ScenarioResult> {
  const env = runtime.lambdas.environment();
  const dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: runtime.urls.dynamodb,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const stockTable = env.STOCK_TABLE_NAME as string;
  const levels = async (): Promise<StockLevel[]> => {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: stockTable,
        KeyConditionExpression: 'sku = :sku',
        ExpressionAttributeValues: { ':sku': { S: SKU } },
        ConsistentRead: true,
      }),
    );
    return (page.Items ?? [])
      .filter((item) => !(item.warehouseId?.S ?? '').includes('#'))
      .map((item) => ({
        warehouseId: item.warehouseId?.S ?? '',
        onHand: Number(item.onHand?.N),
        reserved: Number(item.reserved?.N),
        available: Number(item.available?.N),
      }));
  };
  const sum = (items: StockLevel[], key: 'onHand' | 'reserved' | 'available') =>
    items.reduce((total, item) => total + item[key], 0);

  try {
    await client.setStock(SKU, FLASH.units);
    const before = await levels();

    // The stock items, sampled straight from the table while the sale runs.
    const watch = { samples: 0, minAvailable: Number.POSITIVE_INFINITY, minOnHand: Number.POSITIVE_INFINITY };
    const watchStats = { minReserved: Number.POSITIVE_INFINITY, maxReserved: 0, inconsistent: 0 };
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const item of await levels()) {
          watch.minAvailable = Math.min(watch.minAvailable, item.available);
          watch.minOnHand = Math.min(watch.minOnHand, item.onHand);
          watchStats.minReserved = Math.min(watchStats.minReserved, item.reserved);
          watchStats.maxReserved = Math.max(watchStats.maxReserved, item.reserved);
          if (item.available !== item.onHand - item.reserved) watchStats.inconsistent++;
        }
        watch.samples++;
        await sleep(100);
      }
    })();
    // The runtime's process (its thread and every execution environment's) while the sale runs; the
    // buyers' process apart.
    const body = orderBody({ lines: [{ sku: SKU, quantity: 1, unitPrice: UNIT_PRICE }] });
    const buyers = buyersProcess({
      urls: runtime.urls,
      buyers: FLASH.buyers,
      perSecond: FLASH.perSecond,
      deadlineSeconds: FLASH.deadlineSeconds,
      order: body,
      terminal: [...TERMINAL],
    });
    const usage = {
      peakRssMb: 0,
      buyersPeakRssMb: 0,
      cpuBefore: process.cpuUsage(),
      since: performance.now(),
      coldStartsBefore: runtime.lambdas.coldStarts,
    };
    const memory = setInterval(() => {
      usage.peakRssMb = Math.max(usage.peakRssMb, process.memoryUsage().rss / 1024 / 1024);
      usage.buyersPeakRssMb = Math.max(usage.buyersPeakRssMb, rssMbOf(buyers.pid));
    }, 250);
    const { bought, posts, polls, refused, acceptedSeconds, startedAt } = await buyers.outcome.catch(
      async (error: unknown) => {
        // The sale cannot be judged without its buyers: the sampling stops with it.
        clearInterval(memory);
        watching = false;
        await watcher.catch(() => undefined);
        throw error;
      },
    );
    const placed = bought.map((b) => b.orderId);

    // The buyers saw their orders end; the executions say when (and are waited for if a buyer gave up).
    const mine = new Set(placed);
    const deadline = Date.now() + FLASH.deadlineSeconds * 1000;
    let executions = await executionsOf(client, runtime.stateMachineArn, mine);
    while (Date.now() < deadline && executions.some((e) => e.status === 'RUNNING')) {
      const running = executions.filter((e) => e.status === 'RUNNING').length;
      progress.update('flash: settling', { accepted: placed.length, running, ended: executions.length - running });
      await sleep(1_000);
      executions = await executionsOf(client, runtime.stateMachineArn, mine);
    }
    const lastStop = Math.max(...executions.map((e) => e.stopDate?.getTime() ?? Date.now()));
    const wallSeconds = (lastStop - startedAt) / 1000;
    watching = false;
    await watcher;
    clearInterval(memory);
    const cpu = process.cpuUsage(usage.cpuBefore);
    const coresBusy = (cpu.user + cpu.system) / 1000 / (performance.now() - usage.since);
    const after = await levels();

    // What each buyer last saw; a buyer who gave up before the end reads its order once more.
    const orders: Record<string, any>[] = [];
    for (const { orderId, order } of bought) {
      if (TERMINAL.has(order.status)) orders.push(order);
      else
        orders.push(
          (await call(polls, () => client.rawRequest('GET', `/orders/${orderId}`), Date.now() + 60_000))?.body ?? {},
        );
    }
    progress.clear();
    const count = (status: string) => orders.filter((o) => o.status === status).length;
    const outOfStock = orders.filter((o) => o.status === 'REJECTED' && o.failure?.code === 'OutOfStock').length;
    const otherOutcomes = new Map<string, number>();
    for (const o of orders) {
      if (o.status === 'COMPLETED' || (o.status === 'REJECTED' && o.failure?.code === 'OutOfStock')) continue;
      const outcome = `${o.status}${o.failure?.code ? ` ${o.failure.code}` : ''}`;
      otherOutcomes.set(outcome, (otherOutcomes.get(outcome) ?? 0) + 1);
    }

    const ordersPerSecond = FLASH.buyers / wallSeconds;
    const figures = {
      buyers: FLASH.buyers,
      units: FLASH.units,
      arrival: FLASH.perSecond > 0 ? `${FLASH.perSecond}/s` : 'all at once',
      sku: SKU,
      referenceRoundTripMs: Number(referenceMs.toFixed(2)),
      referenceRoundTripsPerSecond: Math.round(1000 / referenceMs),
      acceptedInSeconds: Number(acceptedSeconds.toFixed(1)),
      acceptedPerSecond: Number((placed.length / acceptedSeconds).toFixed(1)),
      wallSeconds: Number(wallSeconds.toFixed(1)),
      ordersPerSecond: Number(ordersPerSecond.toFixed(1)),
      ordersPerHundredRoundTripsPerSecond: Number(((ordersPerSecond * 100 * referenceMs) / 1000).toFixed(2)),
      postAnswersByStatus: JSON.stringify(posts.byStatus),
      postsThrottled429: posts.byStatus['429'] ?? 0,
      postFailedConnections: JSON.stringify(posts.connectionErrors),
      postsRetried: posts.retried,
      pollAnswersByStatus: JSON.stringify(polls.byStatus),
      pollsThrottled429: polls.byStatus['429'] ?? 0,
      pollFailedConnections: JSON.stringify(polls.connectionErrors),
      pollsRetried: polls.retried,
      placementRefused: refused,
      COMPLETED: count('COMPLETED'),
      REJECTED_OutOfStock: outOfStock,
      otherOutcomes: JSON.stringify(Object.fromEntries(otherOutcomes)),
      notTerminal: orders.filter((o) => !TERMINAL.has(o.status)).length,
      stockSamples: watch.samples,
      stockMinAvailable: watch.minAvailable,
      stockMinOnHand: watch.minOnHand,
      stockMaxReserved: watchStats.maxReserved,
      peakRssMb: Math.round(usage.peakRssMb),
      buyersProcessPeakRssMb: Math.round(usage.buyersPeakRssMb),
      coldStarts: runtime.lambdas.coldStarts - usage.coldStartsBefore,
      environmentsAtEnd: Object.values(runtime.lambdas.environmentCounts()).reduce((n, c) => n + c.warm + c.busy, 0),
      nodeCoresBusy: Number(coresBusy.toFixed(2)),
      stockBefore: JSON.stringify(
        before.map(({ warehouseId, onHand, available }) => ({ warehouseId, onHand, available })),
      ),
      stockAfter: JSON.stringify(
        after.map(({ warehouseId, onHand, reserved, available }) => ({ warehouseId, onHand, reserved, available })),
      ),
    };
    const checks: Check[] = [
      meets('every buyer got an answer (orders placed)', placed.length, '=', FLASH.buyers),
      meets('orders COMPLETED (= units)', figures.COMPLETED, '=', FLASH.units),
      meets('orders REJECTED with OutOfStock (= buyers - units)', outOfStock, '=', FLASH.buyers - FLASH.units),
      meets('orders not terminal at the deadline', figures.notTerminal, '=', 0),
      meets('ECONNRESET from the local API (POSTs + polls)', resets(posts) + resets(polls), '=', 0),
      meets('5xx answers (POSTs + polls)', fiveHundreds(posts) + fiveHundreds(polls), '=', 0),
      meets(
        'failed connections to the local API, any code (POSTs + polls)',
        total(posts.connectionErrors) + total(polls.connectionErrors),
        '=',
        0,
      ),
      meets('resident memory of the runtime during the sale (MB, JVM excluded)', figures.peakRssMb, '<=', 1024),
      meets('stock: lowest available seen during the sale', watch.minAvailable, '>=', 0),
      meets('stock: samples where available != onHand - reserved', watchStats.inconsistent, '=', 0),
      meets('stock: lowest reserved seen during the sale', watchStats.minReserved, '>=', 0),
      meets(
        'stock after: shipped (on hand before - after)',
        sum(before, 'onHand') - sum(after, 'onHand'),
        '=',
        FLASH.units,
      ),
      meets('stock after: reserved + available', sum(after, 'reserved') + sum(after, 'available'), '=', 0),
    ];
    return { section: 'flash sale', figures, checks };
  } finally {
    dynamo.destroy();
  }
}

async function executionsOf(client: TestClient, stateMachineArn: string, names: Set<string>) {
  const found: { status?: string; stopDate?: Date }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000, nextToken }));
    for (const e of page.executions ?? []) if (names.has(e.name ?? '')) found.push(e);
    nextToken = page.nextToken;
  } while (nextToken);
  return found;
}
