/**
 * `npm run bench`: end-to-end latency, throughput and memory of the local system, against
 * targets. Not part of `npm test` (timings belong here, not in unit tests). Exit code 1 when a
 * target is missed.
 *
 *   BENCH_ORDERS=200 BENCH_DELIVERY_MS=500 npm run bench
 */
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { startLocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, TestClient } from '../support/runtime.ts';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 200);
const DELIVERY_MS = Number(process.env.BENCH_DELIVERY_MS ?? 500);
const TARGETS = {
  /** Median time the system itself adds to one order, carrier delay excluded. */
  singleOrderOverheadMs: 1_500,
  /**
   * Orders taken from POST to COMPLETED per second, many at once. Locally one Node process runs
   * every handler and both AWS API emulators written in Node, so about 50 SDK calls per order
   * (signing, serialization) share one core: this measures the laptop setup, not AWS.
   */
  completedPerSecond: 5,
  /** Resident memory of the Node process running the runtime and all handlers (the JVM excluded). */
  rssMb: 1_024,
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))] ?? Number.NaN;

async function main() {
  const runtime = await startLocalRuntime({
    ports: { api: 0, dynamodb: 0, ses: 0, stepfunctions: 0, eventbridge: 0, s3: 0, secretsmanager: 0 },
    carrierDeliveryMs: DELIVERY_MS,
    environment: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
  });
  const client = new TestClient(runtime);
  const completed = async (orderId: string) =>
    eventually(async () => ((await client.order(orderId)).status === 'COMPLETED' ? true : undefined), 120_000, 20);
  try {
    // Stock enough for everything below.
    await client.setStock('CABLE-USB-C', 1_000_000);
    const line = { lines: [{ sku: 'CABLE-USB-C', quantity: 1, unitPrice: 990 }] };

    // 1. One order at a time: POST -> COMPLETED.
    const single: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await completed(await client.placeOrder(orderBody(line)));
      single.push(performance.now() - started);
    }

    // 2. Many at once.
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
        return mine.length === ids.length ? mine : undefined;
      },
      300_000,
      250,
    );
    const latencies = finished.map((e) => (e.stopDate?.getTime() ?? 0) - startedAt);
    const seconds = Math.max(...latencies) / 1000;
    const rssMb = process.memoryUsage().rss / 1024 / 1024;

    const results = {
      carrierDeliveryMs: DELIVERY_MS,
      singleOrderMedianMs: Math.round(median(single)),
      singleOrderOverheadMs: Math.round(median(single) - DELIVERY_MS),
      concurrentOrders: ORDERS,
      acceptedPerSecond: Math.round(ORDERS / (accepted / 1000)),
      completedPerSecond: Number((ORDERS / seconds).toFixed(1)),
      concurrentP50Ms: Math.round(percentile(latencies, 50)),
      concurrentP95Ms: Math.round(percentile(latencies, 95)),
      rssMb: Math.round(rssMb),
    };
    const checks = [
      ['single order overhead (ms)', results.singleOrderOverheadMs, '<=', TARGETS.singleOrderOverheadMs],
      ['completed orders per second', results.completedPerSecond, '>=', TARGETS.completedPerSecond],
      ['resident memory (MB)', results.rssMb, '<=', TARGETS.rssMb],
    ] as const;
    console.log(JSON.stringify(results, null, 2));
    let failed = false;
    for (const [name, value, op, target] of checks) {
      const ok = op === '<=' ? value <= target : value >= target;
      failed ||= !ok;
      console.log(`${ok ? 'ok  ' : 'MISS'} ${name}: ${value} (target ${op} ${target})`);
    }
    process.exitCode = failed ? 1 : 0;
  } finally {
    await runtime.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
