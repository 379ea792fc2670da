/**
 * `npm run bench`: end-to-end latency, throughput and memory of the local system, against
 * targets. Not part of `npm test` (timings belong here, not in unit tests). Prints a progress line
 * on stderr while it runs (a terminal only), a table of every figure with its target and ok/MISS at
 * the end, and writes the same as JSON to bench-results/<timestamp>.json and bench-results/latest.json
 * (BENCH_RESULTS_DIR to change). Exit code 1 when a target is missed.
 *
 *   BENCH_ORDERS=200 BENCH_DELIVERY_MS=500 npm run bench
 *   npm run bench -- load     # only the busy-shop scenario (3.)
 *   npm run bench -- cost     # only the cost of one order in AWS (test/bench/cost.ts; `--cost` too)
 *   BENCH_LOAD_ORDERS=800 BENCH_LOAD_RATE=40 BENCH_LOAD_DEADLINE_S=300 npm run bench -- load
 *   npm run bench -- flash    # only the flash sale (flash-sale.ts; minutes, so only by its word)
 *   npm run bench -- invoices # only the invoice numbering (invoice-numbering.ts)
 *   npm run bench -- bundles  # only the functions' bundle sizes and init times (bundles.ts)
 *   npm run bench -- accept   # accept latency under paced load and the storage floor (accept.ts);
 *                             # it needs the `orders` and `cost` scenarios' figures, so they run too
 *
 * Scenarios are picked by their words (`bundles`, `orders`, `accept`, `load`, `invoices`, `cost`, `flash`); without a
 * word every scenario but the flash sale runs.
 *
 * 3. A busy shop: orders arrive at a steady rate (40/s for 20 s) for ONE product with ample stock.
 *    Prints how many ended COMPLETED / REJECTED / FAILED and how many were still open at the
 *    deadline, and checks the invoice numbers for gaps and duplicates. Contention must never be an
 *    outcome: every order completes.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { Kpis } from '../../functions/core/kpi-figures.ts';
import { OrderStatus, TERMINAL_STATUSES } from '../../functions/core/schemas.ts';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, TestClient } from '../support/runtime.ts';
import { acceptLatency, conditionalWritesPerSecond, type FloorWrites, storageFloor } from './accept.ts';
import { bundleBench } from './bundles.ts';
import { costScenario } from './cost.ts';
import { cpuMeter, cpuPerOrder, dynamoDbLocalOf } from './cpu.ts';
import { numberingGaps } from './figures.ts';
import { flashSale } from './flash-sale.ts';
import { invoiceNumbering } from './invoice-numbering.ts';
import {
  allOk,
  type Check,
  formatTable,
  meets,
  progress,
  type ScenarioResult,
  tableRows,
  writeResults,
} from './report.ts';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 200);
const RESULTS_DIR = process.env.BENCH_RESULTS_DIR ?? 'bench-results';
const DELIVERY_MS = Number(process.env.BENCH_DELIVERY_MS ?? 500);
/**
 * Speeds are stated against a reference measured in the same run on the same machine: one signed
 * DynamoDB GetItem round trip from this process to DynamoDB Local (the unit of work every stage is
 * made of). A noisy or slow machine slows both, so the ratios hold where absolute times do not.
 */
const TARGETS = {
  /** Median time the system itself adds to one order (carrier delay excluded), in reference round trips. */
  singleOrderOverheadRoundTrips: 300,
  /**
   * Orders taken from POST to COMPLETED per second, many at once, per 100 reference round trips per
   * second. Locally the handlers' execution environments, the interpreter, the Node emulators and
   * DynamoDB Local share two cores: this measures the laptop setup, not AWS.
   */
  completedPerHundredRoundTripsPerSecond: 0.5,
  /**
   * Resident memory of the Node process running the runtime and its execution environments (the JVM
   * excluded). It includes the local SES store, which keeps every e-mail sent with its PDF (about
   * 22 KB, two e-mails per invoice).
   */
  rssMb: 1_536,
};

/** The reference: sequential GetItem round trips to DynamoDB Local, median of 3 rounds of 200. */
async function referenceRoundTripMs(runtime: LocalRuntime): Promise<number> {
  const dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: runtime.urls.dynamodb,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const table = runtime.lambdas.environment().PRODUCTS_TABLE_NAME as string;
  const rounds: number[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      for (let i = 0; i < 200; i++)
        await dynamo.send(new GetItemCommand({ TableName: table, Key: { sku: { S: 'CABLE-USB-C' } } }));
      rounds.push((performance.now() - started) / 200);
    }
  } finally {
    dynamo.destroy();
  }
  return median(rounds);
}

const LOAD = {
  orders: Number(process.env.BENCH_LOAD_ORDERS ?? 800),
  perSecond: Number(process.env.BENCH_LOAD_RATE ?? 40),
  /** How long after the last order was placed the outcome is taken. */
  deadlineSeconds: Number(process.env.BENCH_LOAD_DEADLINE_S ?? 300),
};
/** The scenarios named on the command line (none: the default set). */
const words = process.argv
  .slice(2)
  .map((word) => (word === '--cost' ? 'cost' : word))
  .filter((word) => !word.startsWith('-'));
/** What a word needs besides itself: the storage floor compares figures of the orders and cost scenarios. */
const NEEDS: Record<string, string[]> = { orders: ['accept'], cost: ['accept'] };
const selected = (word: string, byDefault = true) =>
  words.length === 0 ? byDefault : words.includes(word) || (NEEDS[word] ?? []).some((other) => words.includes(other));
const TERMINAL = new Set<string>(TERMINAL_STATUSES);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))] ?? Number.NaN;

async function main() {
  const startedAt = new Date();
  const results: ScenarioResult[] = [];
  // Before the runtime starts: the init times are taken on an otherwise idle machine.
  if (selected('bundles')) results.push(await bundleBench());
  const needsRuntime = ['orders', 'accept', 'load', 'invoices', 'flash'].some((word) =>
    selected(word, word !== 'flash'),
  );
  let floorWrites: FloorWrites | undefined;
  if (needsRuntime) {
    const runtime = await startLocalRuntime({
      ports: { api: 0, dynamodb: 0, ses: 0, stepfunctions: 0, eventbridge: 0, s3: 0, secretsmanager: 0, auth: 0 },
      carrierDeliveryMs: DELIVERY_MS,
      environment: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    });
    const client = new TestClient(runtime);
    // The invoice scenario drives the functions' own adapters from this process: it takes their configuration.
    Object.assign(process.env, runtime.functionEnvironment());
    try {
      progress.update('reference round trip');
      const referenceMs = await referenceRoundTripMs(runtime);
      if (selected('orders')) results.push(await ordersScenario(runtime, client, referenceMs));
      if (selected('accept')) {
        results.push(await acceptLatency(runtime, client));
        progress.update('storage floor');
        floorWrites = await conditionalWritesPerSecond(runtime);
      }
      if (selected('load')) results.push(await loadScenario(runtime, client));
      if (selected('invoices')) results.push(await invoiceNumbering(runtime, referenceMs));
      if (selected('flash', false)) results.push(await flashSale(runtime, client, referenceMs));
    } finally {
      progress.clear();
      await runtime.stop();
    }
  }
  // In a runtime of its own, with metering on.
  if (selected('cost')) results.push(await costWithTables());
  if (floorWrites) {
    const happy = results.find((r) => r.section === 'cost')?.rows?.find((row) => row.order === 'happy');
    const orders = results.find((r) => r.section === 'orders')?.figures ?? {};
    const numberOrNothing = (value: unknown) => (typeof value === 'number' ? value : undefined);
    results.push(
      storageFloor(
        floorWrites,
        { itemWrites: numberOrNothing(happy?.dynamodbItemWrites), requests: numberOrNothing(happy?.dynamodbRequests) },
        {
          completedPerSecond: numberOrNothing(orders.completedPerSecond),
          jvmCpuMsPerOrder: numberOrNothing(orders.jvmCpuMsPerOrder),
          cores: numberOrNothing(orders.cores),
        },
      ),
    );
  }
  console.log(`\n${formatTable(tableRows(results))}`);
  const file = writeResults(RESULTS_DIR, startedAt, words, results);
  const ok = allOk(results);
  console.log(`\n${ok ? 'every target met' : 'MISSED a target'}; results in ${file} and ${RESULTS_DIR}/latest.json`);
  process.exitCode = ok ? 0 : 1;
}

async function costWithTables(): Promise<ScenarioResult> {
  const cost = await costScenario();
  for (const table of Object.values(cost.tables)) console.log(`\n${table}`);
  return cost;
}

/** 1. One order at a time, POST -> COMPLETED; 2. many at once. */
async function ordersScenario(runtime: LocalRuntime, client: TestClient, referenceMs: number): Promise<ScenarioResult> {
  const completed = async (orderId: string) =>
    eventually(async () => ((await client.order(orderId)).status === 'COMPLETED' ? true : undefined), 120_000, 20);
  // Stock enough for everything below.
  await client.setStock('CABLE-USB-C', 1_000_000);
  const line = { lines: [{ sku: 'CABLE-USB-C', quantity: 1, unitPrice: 990 }] };

  // 1. One order at a time: POST -> COMPLETED.
  const single: number[] = [];
  for (let i = 0; i < 5; i++) {
    progress.update('orders: one at a time', { done: i, of: 5 });
    const started = performance.now();
    await completed(await client.placeOrder(orderBody(line)));
    single.push(performance.now() - started);
  }

  // 2. Many at once.
  progress.update('orders: placing at once', { orders: ORDERS });
  const coldStartsBefore = runtime.lambdas.coldStarts;
  const stopMeter = cpuMeter(dynamoDbLocalOf(runtime));
  const started = performance.now();
  const ids = await Promise.all(Array.from({ length: ORDERS }, () => client.placeOrder(orderBody(line))));
  const accepted = performance.now() - started;
  // One ListExecutions call per poll (not one request per order), so the measuring does not load the system.
  const startedAt = Date.now() - accepted;
  const finished = await eventually(
    async () => {
      const list = await client.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: runtime.stateMachineArn,
          statusFilter: 'SUCCEEDED',
          maxResults: 1000,
        }),
      );
      const mine = (list.executions ?? []).filter((e) => ids.includes(e.name ?? ''));
      progress.update('orders: completing at once', { completed: mine.length, of: ORDERS });
      return mine.length === ids.length ? mine : undefined;
    },
    300_000,
    250,
  );
  const cpu = stopMeter();
  const latencies = finished.map((e) => (e.stopDate?.getTime() ?? 0) - startedAt);
  const seconds = Math.max(...latencies) / 1000;
  const rssMb = process.memoryUsage().rss / 1024 / 1024;

  const overheadMs = median(single) - DELIVERY_MS;
  const completedPerSecond = ORDERS / seconds;
  const figures = {
    referenceRoundTripMs: Number(referenceMs.toFixed(2)),
    referenceRoundTripsPerSecond: Math.round(1000 / referenceMs),
    carrierDeliveryMs: DELIVERY_MS,
    singleOrderMedianMs: Math.round(median(single)),
    singleOrderOverheadMs: Math.round(overheadMs),
    singleOrderOverheadRoundTrips: Math.round(overheadMs / referenceMs),
    concurrentOrders: ORDERS,
    acceptedPerSecond: Math.round(ORDERS / (accepted / 1000)),
    completedPerSecond: Number(completedPerSecond.toFixed(1)),
    completedPerHundredRoundTripsPerSecond: Number(((completedPerSecond * 100 * referenceMs) / 1000).toFixed(2)),
    concurrentP50Ms: Math.round(percentile(latencies, 50)),
    concurrentP95Ms: Math.round(percentile(latencies, 95)),
    rssMb: Math.round(rssMb),
    coldStarts: runtime.lambdas.coldStarts - coldStartsBefore,
    ...cpuPerOrder(cpu, ORDERS),
  };
  const checks: Check[] = [
    meets(
      `single order overhead in reference round trips (${figures.singleOrderOverheadMs} ms / ${figures.referenceRoundTripMs} ms)`,
      figures.singleOrderOverheadRoundTrips,
      '<=',
      TARGETS.singleOrderOverheadRoundTrips,
    ),
    meets(
      `completed orders/s per 100 reference round trips/s (${figures.completedPerSecond} / ${figures.referenceRoundTripsPerSecond})`,
      figures.completedPerHundredRoundTripsPerSecond,
      '>=',
      TARGETS.completedPerHundredRoundTripsPerSecond,
    ),
    meets('resident memory (MB)', figures.rssMb, '<=', TARGETS.rssMb),
  ];
  return { section: 'orders', figures, checks };
}

/** 3. Orders at a steady rate for one SKU; outcome counts and the invoice numbers' gap check. */
async function loadScenario(runtime: LocalRuntime, client: TestClient): Promise<ScenarioResult> {
  const sku = 'GADGET-MINI';
  await client.setStock(sku, LOAD.orders * 10);
  // The KPI projection's figures before the load, once the earlier orders' events are in.
  // Earlier scenarios' orders end first (on a slow machine the accept scenario's run on for minutes): they
  // would share the two cores with this load and end inside its KPI window, counted as its own.
  progress.update('load: earlier orders ending');
  const kpisBefore = await settledKpis(client, (k) => k.ordersInFlight === 0, 600_000);
  const body = orderBody({ lines: [{ sku, quantity: 1, unitPrice: 3900 }] });
  const started = performance.now();
  // A steady arrival rate, as from outside: every order has its own timer, whatever the others are doing.
  let lastSent = started;
  const refusals = new Map<string, number>();
  let sent = 0;
  let accepted = 0;
  const placing = Array.from({ length: LOAD.orders }, (_, i) =>
    new Promise((resolve) => setTimeout(resolve, (i * 1000) / LOAD.perSecond)).then(() => {
      lastSent = performance.now();
      progress.update('load: placing', { sent: ++sent, accepted, of: LOAD.orders });
      return client
        .placeOrder(body)
        .then((id) => {
          accepted++;
          return id;
        })
        .catch((error: Error) => {
          const reason = /answered (\d+)/.exec(error.message)?.[1] ?? error.name;
          refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
          return undefined;
        });
    }),
  );
  const placed = (await Promise.all(placing)).filter((id): id is string => id !== undefined);
  const sentSeconds = (lastSent - started) / 1000;
  const placedSeconds = (performance.now() - started) / 1000;
  const mine = new Set(placed);
  const deadline = Date.now() + LOAD.deadlineSeconds * 1000;
  let open = mine.size;
  while (Date.now() < deadline && open > 0) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const running = await listExecutions(client, runtime.stateMachineArn, 'RUNNING');
    open = running.filter((name) => mine.has(name)).length;
    progress.update('load: settling', { running: open, placed: mine.size });
  }
  const settledSeconds = (performance.now() - started) / 1000;
  const orders: Record<string, any>[] = [];
  for (let i = 0; i < placed.length; i += 50)
    orders.push(...(await Promise.all(placed.slice(i, i + 50).map((id) => client.order(id)))));
  const count = (status: string) => orders.filter((o) => o.status === status).length;
  const failures = new Map<string, number>();
  for (const o of orders)
    if (o.status === 'FAILED' || o.status === 'REJECTED')
      failures.set(o.failure?.code, (failures.get(o.failure?.code) ?? 0) + 1);
  // One invoice per shipment: every completed order has at least one.
  const numbers = orders
    .flatMap((o) =>
      (o.invoices ?? []).map((invoice: { number: string }) => /^INV-\d{4}-(\d{6})$/.exec(invoice.number)?.[1]),
    )
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const { first, last, gaps, duplicates } = numberingGaps(numbers);
  const results = {
    ordersPlaced: placed.length,
    placementRefused: LOAD.orders - placed.length,
    sentInSeconds: Number(sentSeconds.toFixed(1)),
    acceptedInSeconds: Number(placedSeconds.toFixed(1)),
    COMPLETED: count('COMPLETED'),
    REJECTED: count('REJECTED'),
    FAILED: count('FAILED'),
    stillOpenAtDeadline: orders.filter((o) => !TERMINAL.has(o.status)).length,
    placementRefusedBy: JSON.stringify(Object.fromEntries(refusals)),
    openByStatus: JSON.stringify(
      Object.fromEntries(
        OrderStatus.options
          .filter((status) => !TERMINAL.has(status))
          .map((status) => [status, count(status)])
          .filter(([, n]) => Number(n) > 0),
      ),
    ),
    failureCodes: JSON.stringify(Object.fromEntries(failures)),
    allSettledAfterSeconds: open === 0 ? Number(settledSeconds.toFixed(1)) : null,
    invoices: numbers.length,
    invoiceNumbers: numbers.length ? `${first}..${last}` : '',
    invoiceGaps: gaps,
    invoiceDuplicates: duplicates,
  };
  // Every order of the load counted once by the KPI projection, under the load's concurrent deliveries.
  const revenue = orders.filter((o) => o.status === 'COMPLETED').reduce((sum, o) => sum + (o.totals?.total ?? 0), 0);
  progress.update('load: KPIs settling');
  const kpisAfter = await settledKpis(
    client,
    (k) => k.ordersPlaced - kpisBefore.ordersPlaced >= placed.length && k.ordersInFlight === 0,
  );
  const counted = {
    ordersPlaced: kpisAfter.ordersPlaced - kpisBefore.ordersPlaced,
    ordersCompleted: kpisAfter.ordersCompleted - kpisBefore.ordersCompleted,
    revenueEUR: (kpisAfter.revenue.EUR ?? 0) - (kpisBefore.revenue.EUR ?? 0),
  };
  const figures = {
    ...results,
    earlierOrdersInFlightAtStart: kpisBefore.ordersInFlight,
    kpisCounted: JSON.stringify(counted),
    kpisExpected: JSON.stringify({
      ordersPlaced: placed.length,
      ordersCompleted: results.COMPLETED,
      revenueEUR: revenue,
    }),
  };
  const checks: Check[] = [
    [
      `GET /kpis counts every order of the load once (placed, completed, revenue)${kpisBefore.ordersInFlight ? `: not comparable, ${kpisBefore.ordersInFlight} earlier orders were still in flight at the start` : ''}`,
      kpisBefore.ordersInFlight === 0 &&
        counted.ordersPlaced === placed.length &&
        counted.ordersCompleted === results.COMPLETED &&
        counted.revenueEUR === revenue,
    ],
    ['every order placed', results.placementRefused === 0],
    ['every order COMPLETED (ample stock: contention is never an outcome)', results.COMPLETED === placed.length],
    [
      'an invoice for every completed order, numbers without gaps or duplicates',
      numbers.length >= results.COMPLETED && gaps === 0 && duplicates === 0,
    ],
  ];
  return { section: 'load', figures, checks };
}

/** GET /kpis over the days around now, as the ops client, once `settled` holds (or after `waitMs`, as it is then). */
async function settledKpis(client: TestClient, settled: (kpis: Kpis) => boolean, waitMs = 120_000): Promise<Kpis> {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { status, body } = await client.as('ops').request('GET', `/kpis?from=${day(-1)}&to=${day(1)}`);
    if (status !== 200) throw new Error(`GET /kpis answered ${status}: ${JSON.stringify(body)}`);
    const kpis = body as Kpis;
    if (settled(kpis) || Date.now() > deadline) return kpis;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

async function listExecutions(client: TestClient, stateMachineArn: string, statusFilter: 'RUNNING') {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter, maxResults: 1000, nextToken }),
    );
    names.push(...(page.executions ?? []).map((e) => e.name ?? ''));
    nextToken = page.nextToken;
  } while (nextToken);
  return names;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
