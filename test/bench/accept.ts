/**
 * `npm run bench -- accept` (also in the plain `npm run bench`): how fast the API takes an order
 * while orders flow, and how the completed-orders rate compares with what the storage allows.
 *
 * Accept latency: an open-loop, paced load generator in a process of its own (accept-sender.ts).
 * BENCH_ACCEPT_RATE (50) POST /orders a second for BENCH_ACCEPT_SECONDS (30), as the web checkout
 * client, each sent at its time by the clock whatever the earlier ones are doing (a closed loop that
 * waits for answers would slow down with the system and hide its latency). A request's latency counts
 * from the time it was due, so a late send counts against the system too. The orders run through the
 * workflow meanwhile; the scenario waits for them to end before the next one starts.
 *
 * Storage floor: what DynamoDB Local itself sustains. One Node client puts BENCH_FLOOR_WRITES (2,000)
 * items with `attribute_not_exists` conditions, 32 at a time, into a scratch table of the same
 * DynamoDB Local; writes per second divided by the items one happy-path order writes (counted by the
 * cost scenario's metering, test/bench/cost.ts) is the most orders a second the storage could take.
 * The `orders` scenario's completed orders per second must reach half of it. Beside the ratio, the
 * DynamoDB Local JVM's CPU (test/bench/cpu.ts): per floor write, per order in the orders scenario, and
 * the orders/s the machine's cores would allow if the JVM alone needed them, which bounds the ratio.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  PutItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { LocalRuntime } from '../../local/runtime.ts';
import { orderBody, sleep, type TestClient } from '../support/runtime.ts';
import type { SenderOutcome, SenderPlan } from './accept-sender.ts';
import { clientProcess } from './client-process.ts';
import { cpuMeter, dynamoDbLocalOf } from './cpu.ts';
import { percentile } from './figures.ts';
import { type Check, type Figure, meets, progress, type ScenarioResult } from './report.ts';

const ACCEPT = {
  perSecond: Number(process.env.BENCH_ACCEPT_RATE ?? 50),
  seconds: Number(process.env.BENCH_ACCEPT_SECONDS ?? 30),
  p99TargetMs: 100,
  /** How long the scenario waits for its orders to end after the last was sent. */
  settleSeconds: Number(process.env.BENCH_ACCEPT_SETTLE_S ?? 300),
};
const FLOOR = { writes: Number(process.env.BENCH_FLOOR_WRITES ?? 2_000), concurrency: 32, share: 0.5 };
const SKU = 'CABLE-USB-C';

export async function acceptLatency(runtime: LocalRuntime, client: TestClient): Promise<ScenarioResult> {
  await client.setStock(SKU, 1_000_000);
  const total = Math.round(ACCEPT.perSecond * ACCEPT.seconds);
  const sender = clientProcess<SenderPlan, number, SenderOutcome>(
    new URL('./accept-sender.ts', import.meta.url),
    {
      apiUrl: runtime.urls.api,
      token: await client.token('checkout'),
      body: orderBody({ lines: [{ sku: SKU, quantity: 1, unitPrice: 990 }] }),
      perSecond: ACCEPT.perSecond,
      seconds: ACCEPT.seconds,
    },
    (answered) => progress.update('accept: paced POSTs', { answered, of: total }),
  );
  const { latencies, lateness, statuses, orderIds, sentSeconds } = await sender.outcome;

  // The orders end before the next scenario starts.
  const mine = new Set(orderIds);
  const deadline = Date.now() + ACCEPT.settleSeconds * 1000;
  let running = mine.size;
  while (running > 0 && Date.now() < deadline) {
    await sleep(2_000);
    running = (await runningExecutions(client, runtime.stateMachineArn)).filter((name) => mine.has(name)).length;
    progress.update('accept: orders ending', { running, of: mine.size });
  }

  const p = (q: number) => Math.round(percentile(latencies, q));
  const figures: Record<string, Figure> = {
    ratePerSecond: ACCEPT.perSecond,
    seconds: ACCEPT.seconds,
    requests: total,
    answersByStatus: JSON.stringify(statuses),
    sentInSeconds: Number(sentSeconds.toFixed(1)),
    sendLatenessP99Ms: Math.round(percentile(lateness, 99)),
    acceptP50Ms: p(50),
    acceptP95Ms: p(95),
    acceptP99Ms: p(99),
    acceptMaxMs: Math.round(Math.max(...latencies)),
    ordersStillRunningAfterSettle: running,
  };
  const checks: Check[] = [
    meets(`POST /orders accepted (202) of ${total}`, statuses['202'] ?? 0, '=', total),
    meets(`accept latency p99 (ms) at ${ACCEPT.perSecond}/s for ${ACCEPT.seconds} s`, p(99), '<=', ACCEPT.p99TargetMs),
  ];
  return { section: 'accept latency', figures, checks };
}

export interface FloorWrites {
  writes: number;
  seconds: number;
  /** The DynamoDB Local JVM's CPU meanwhile. */
  jvmCoreSeconds: number;
  /**
   * The CPU of this process's main thread meanwhile, which sends the writes: the client's side of them. The
   * runtime's worker threads, idle or not, and V8's helper threads (part of the client's garbage collection)
   * are left out, so it errs low, the safe side for a ceiling; the runtime's own thread in it is idle.
   */
  clientCoreSeconds: number;
  /** The JVM's cores busy in the last second before (about 0 once earlier scenarios' work has ended). */
  jvmCoresBusyBefore: number;
}

/**
 * Waits (up to a minute) for the JVM to go idle: work the earlier scenarios left (orders still running
 * after the accept scenario's settle wait) would otherwise be counted in the floor's CPU and slow its
 * writes. Answers the cores the JVM kept busy in its last measured second.
 */
async function untilIdle(jvm: number | undefined, idleCores = 0.05, maxSeconds = 60): Promise<number> {
  let busy = Number.NaN;
  for (let second = 0; second < maxSeconds; second++) {
    const stop = cpuMeter(jvm);
    await sleep(1_000);
    const used = stop();
    busy = used.jvmCoreSeconds / used.seconds;
    if (busy <= idleCores) break;
  }
  return Number(busy.toFixed(2));
}

/** DynamoDB Local's conditional writes per second from one Node client, into a scratch table. */
export async function conditionalWritesPerSecond(runtime: LocalRuntime): Promise<FloorWrites> {
  const dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: runtime.urls.dynamodb,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const TableName = `bench-floor-${randomUUID().slice(0, 8)}`;
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await waitUntilTableExists({ client: dynamo, maxWaitTime: 30 }, { TableName });
    const put = (i: number) =>
      dynamo.send(
        new PutItemCommand({
          TableName,
          Item: { pk: { S: `item-${i}` }, status: { S: 'NEW' }, quantity: { N: String(i) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    // Warm the connections, let the JVM finish what earlier scenarios left it, then time the writes.
    await Promise.all(Array.from({ length: FLOOR.concurrency }, (_, i) => put(-1 - i)));
    const jvm = dynamoDbLocalOf(runtime);
    const jvmCoresBusyBefore = await untilIdle(jvm);
    let next = 0;
    const stopMeter = cpuMeter(jvm);
    const clientBefore = process.threadCpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: FLOOR.concurrency }, async () => {
        while (next < FLOOR.writes) {
          const i = next++;
          await put(i);
          if (i % 100 === 0) progress.update('storage floor: conditional writes', { done: i, of: FLOOR.writes });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const client = process.threadCpuUsage(clientBefore);
    const clientCoreSeconds = (client.user + client.system) / 1e6;
    return {
      writes: FLOOR.writes,
      seconds,
      jvmCoreSeconds: stopMeter().jvmCoreSeconds,
      clientCoreSeconds,
      jvmCoresBusyBefore,
    };
  } finally {
    await dynamo.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
    dynamo.destroy();
  }
}

/** What one happy-path order asks of DynamoDB (the cost scenario's metering). */
export interface OrderStorage {
  /** Items written: one per PutItem, UpdateItem or DeleteItem, one per Put/Update/Delete of a transaction. */
  itemWrites?: number;
  /** Requests of every kind: reads, writes, transactions, queries. */
  requests?: number;
}

/**
 * The storage floor against the completed orders: conditional writes/s / items one happy-path order
 * writes = orders/s the storage allows; the orders scenario's completed orders/s must reach `share` of it.
 */
export function storageFloor(
  measured: FloorWrites,
  order: OrderStorage,
  orders: { completedPerSecond?: number; jvmCpuMsPerOrder?: number; cores?: number },
): ScenarioResult {
  const { itemWrites: itemWritesPerOrder, requests: requestsPerOrder } = order;
  const { completedPerSecond, jvmCpuMsPerOrder, cores } = orders;
  const writesPerSecond = measured.writes / measured.seconds;
  const jvmMsPerWrite = (measured.jvmCoreSeconds * 1000) / measured.writes;
  const clientMsPerWrite = (measured.clientCoreSeconds * 1000) / measured.writes;
  const figures: Record<string, Figure> = {
    conditionalWrites: measured.writes,
    concurrency: FLOOR.concurrency,
    writesInSeconds: Number(measured.seconds.toFixed(2)),
    conditionalWritesPerSecond: Math.round(writesPerSecond),
    jvmCoresBusyBeforeFloor: measured.jvmCoresBusyBefore,
    jvmCoresBusyInFloor: Number((measured.jvmCoreSeconds / measured.seconds).toFixed(2)),
    jvmCpuMsPerFloorWrite: Number(jvmMsPerWrite.toFixed(3)),
    clientCpuMsPerFloorWrite: Number(clientMsPerWrite.toFixed(3)),
    itemWritesPerHappyOrder: itemWritesPerOrder ?? null,
    requestsPerHappyOrder: requestsPerOrder ?? null,
  };
  if (itemWritesPerOrder === undefined || completedPerSecond === undefined)
    return {
      section: 'storage floor',
      figures,
      checks: [['the cost scenario counted the writes of an order and the orders scenario ran', false]],
    };
  const floor = writesPerSecond / itemWritesPerOrder;
  figures.floorOrdersPerSecond = Number(floor.toFixed(1));
  figures.completedOrdersPerSecond = completedPerSecond;
  figures.completedShareOfFloor = Number((completedPerSecond / floor).toFixed(2));
  if (jvmCpuMsPerOrder && cores && jvmMsPerWrite > 0) {
    // What the JVM does for one order (its reads, transactions, index updates) in floor writes, and the
    // orders/s the cores would allow if nothing but the JVM needed them: the ceiling of this ratio here.
    figures.jvmCpuMsPerOrder = jvmCpuMsPerOrder;
    figures.jvmWorkPerOrderInFloorWrites = Math.round(jvmCpuMsPerOrder / jvmMsPerWrite);
    const jvmBound = (cores * 1000) / jvmCpuMsPerOrder;
    figures.jvmBoundOrdersPerSecond = Number(jvmBound.toFixed(1));
    figures.jvmBoundShareOfFloor = Number((jvmBound / floor).toFixed(2));
    if (requestsPerOrder && clientMsPerWrite > 0) {
      // A runtime that cost nothing but the SDK's calls: the JVM's work for an order, and the client's
      // side of its requests at what a floor write costs the client's thread. No Lambda invocation,
      // transition, event delivery, API request, e-mail or PDF costs anything in it. Its costs err low (a
      // floor write's item is smaller than an order's, the client's helper threads are left out, the JVM's
      // figure stops when the executions end, before the last event consumers), so it is at most what any
      // runtime making these requests could complete; but one: the requests are those of the cost scenario's
      // two-line order, a request or two more than the orders scenario's one-line ones (see the README).
      const callsMs = jvmCpuMsPerOrder + clientMsPerWrite * requestsPerOrder;
      const callsBound = (cores * 1000) / callsMs;
      figures.storageCallsCpuMsPerOrder = Number(callsMs.toFixed(1));
      figures.storageCallsBoundOrdersPerSecond = Number(callsBound.toFixed(1));
      figures.storageCallsBoundShareOfFloor = Number((callsBound / floor).toFixed(2));
    }
  }
  return {
    section: 'storage floor',
    figures,
    checks: [
      meets(
        `completed orders/s >= ${FLOOR.share} x floor (${Math.round(writesPerSecond)} writes/s / ${itemWritesPerOrder} writes per order = ${floor.toFixed(1)} orders/s)`,
        completedPerSecond,
        '>=',
        Number((FLOOR.share * floor).toFixed(1)),
      ),
    ],
  };
}

async function runningExecutions(client: TestClient, stateMachineArn: string): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }),
    );
    names.push(...(page.executions ?? []).map((e) => e.name ?? ''));
    nextToken = page.nextToken;
  } while (nextToken);
  return names;
}
