/**
 * `npm run bench -- cost` (or `--cost`): what one order costs in AWS, measured on the local runtime.
 * Takes about a minute; also part of the plain `npm run bench`.
 *
 * A runtime of its own with metering on (local/metering.ts: every AWS API call the functions make,
 * with DynamoDB's ConsumedCapacity) and the functions observed (local/lambda.ts: each invocation's
 * duration at its configured memory and architecture). For a happy-path order and a declined one
 * (card token `tok_declined`), one at a time after a warm-up, it counts from POST /orders to the
 * last event delivered: billed state transitions (from the execution history), Lambda invocations
 * and GB-seconds, DynamoDB request units, SES recipients, EventBridge events, S3 requests and bytes,
 * and prices them (test/bench/cost-model.ts). Three runs each: the transitions, e-mails and
 * documents must agree; the run with the median Lambda GB-seconds is reported.
 */
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { InvocationRecord } from '../../local/lambda.ts';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.ts';
import { orderBody, sleep, TestClient } from '../support/runtime.ts';
import {
  billedTransitions,
  type CostLine,
  costTable,
  dominant,
  lambdaUsage,
  type OrderUsage,
  orderCost,
  PRICES,
  total,
} from './cost-model.ts';

/** Billed state transitions a happy-path order may take. */
export const TRANSITIONS_TARGET = 12;
const RUNS = 3;
const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

const ORDERS = {
  happy: orderBody(),
  declined: orderBody({ payment: { method: 'card', token: 'tok_declined' } }),
} as const;

interface Measured {
  usage: OrderUsage;
  status: string;
  byState: Record<string, number>;
  retries: number;
  byFunction: Record<string, number>;
  /** DynamoDB request units and requests, by table and operation. */
  dynamodb: {
    byTable: Record<string, { readUnits: number; writeUnits: number }>;
    byOperation: Record<string, number>;
    requests: Record<string, number>;
    /** Write requests and the items they wrote (local/metering.ts `itemWrites`). */
    writeRequests: number;
    itemWrites: number;
  };
}

export interface CostResult {
  section: string;
  rows: Record<string, number | string>[];
  checks: [string, boolean][];
  tables: Record<string, string>;
}

export async function costScenario(): Promise<CostResult> {
  const runtime = await startLocalRuntime({
    ports: { api: 0, dynamodb: 0, ses: 0, stepfunctions: 0, eventbridge: 0, s3: 0, secretsmanager: 0, auth: 0 },
    carrierDeliveryMs: 200,
    environment: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    metering: true,
  });
  try {
    const client = new TestClient(runtime);
    for (const line of ORDERS.happy.lines) await client.setStock(line.sku, 1_000_000);
    // Warm-up: every function's INIT, the clients' tokens and the secrets' caches are behind us.
    for (const body of Object.values(ORDERS)) await measure(runtime, client, body);

    const rows: Record<string, number | string>[] = [];
    const checks: [string, boolean][] = [];
    const tables: Record<string, string> = {};
    for (const [kind, body] of Object.entries(ORDERS)) {
      const runs: Measured[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await measure(runtime, client, body));
      // What decides the bill must not vary: the path taken, its transitions, the e-mails and documents.
      const billed = (m: Measured) =>
        JSON.stringify([m.status, m.usage.transitions, m.usage.ses.recipients, m.usage.s3.putRequests]);
      // The rest may, by an event delivered twice or a transaction retried (at-least-once, races): shown per run.
      const counts = (m: Measured) =>
        JSON.stringify([sorted(m.byFunction), m.usage.eventbridge.billedEvents, sorted(m.dynamodb.requests)]);
      for (const [i, r] of runs.entries()) console.log(`${kind} run ${i + 1}: ${billed(r)} ${counts(r)}`);
      checks.push([
        `cost ${kind}: the same transitions, e-mails and documents in each of ${RUNS} runs`,
        runs.every((r) => billed(r) === billed(runs[0] as Measured)),
      ]);
      const gbs = (m: Measured) => m.usage.lambda.gbSeconds.arm64 + m.usage.lambda.gbSeconds.x86_64;
      const run = [...runs].sort((a, b) => gbs(a) - gbs(b))[Math.floor(RUNS / 2)] as Measured;
      const lines = orderCost(run.usage);
      tables[kind] = costTable(lines);
      rows.push(summary(kind, run, lines));
      console.log(`\ncost: ${kind} order (${run.status}), ${PRICES.region} list prices of ${PRICES.takenOn}`);
      console.log(tables[kind]);
      console.log(
        `transitions by state: ${JSON.stringify(run.byState)}${run.retries ? `, ${run.retries} retries` : ''}`,
      );
      console.log(`invocations by function: ${JSON.stringify(run.byFunction)}`);
      console.log(`DynamoDB units by table: ${JSON.stringify(run.dynamodb.byTable)}`);
      console.log(
        `DynamoDB units by operation: ${JSON.stringify(run.dynamodb.byOperation)}; requests: ${JSON.stringify(run.dynamodb.requests)}`,
      );
      const top = dominant(lines);
      console.log(`largest share: ${top.line.service} ${(top.share * 100).toFixed(0)}%`);
      if (kind === 'happy') {
        const ok = run.usage.transitions <= TRANSITIONS_TARGET;
        checks.push([
          `cost: billed transitions per happy-path order ${run.usage.transitions} (target <= ${TRANSITIONS_TARGET})`,
          ok,
        ]);
        if (!ok) {
          const heaviest = Object.entries(run.byState)
            .sort((a, b) => b[1] - a[1])
            .map(([state, count]) => `${state} ${count}`)
            .join(', ');
          console.log(`transitions over the target; by state: ${heaviest}`);
        }
      }
      checks.push([
        `cost ${kind}: the order ended ${run.status}`,
        run.status === (kind === 'happy' ? 'SUCCEEDED' : 'FAILED'),
      ]);
    }
    return { section: 'cost', rows, checks, tables };
  } finally {
    await runtime.stop();
  }
}

const sorted = (counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));

function summary(kind: string, run: Measured, lines: CostLine[]): Record<string, number | string> {
  const u = run.usage;
  return {
    order: kind,
    execution: run.status,
    transitions: u.transitions,
    lambdaInvocations: u.lambda.invocations,
    lambdaGbSeconds: Number((u.lambda.gbSeconds.arm64 + u.lambda.gbSeconds.x86_64).toFixed(3)),
    dynamodbWriteUnits: u.dynamodb.writeUnits,
    dynamodbRequests: Object.values(run.dynamodb.requests).reduce((sum, n) => sum + n, 0),
    dynamodbWriteRequests: run.dynamodb.writeRequests,
    dynamodbItemWrites: run.dynamodb.itemWrites,
    dynamodbReadUnits: u.dynamodb.readUnits,
    sesRecipients: u.ses.recipients,
    sesAttachmentKb: Math.round(u.ses.attachmentBytes / 1024),
    eventBridgeEvents: u.eventbridge.billedEvents,
    s3Put: u.s3.putRequests,
    s3Get: u.s3.getRequests,
    s3StoredKb: Math.round(u.s3.storedBytes / 1024),
    apiRequests: u.apiRequests,
    microDollarsPerOrder: Number((total(lines) * 1e6).toFixed(2)),
    usdPer10kOrders: Number((total(lines) * 10_000).toFixed(2)),
    usdPer1MOrders: Number((total(lines) * 1_000_000).toFixed(2)),
  };
}

/** One order, alone in the system: from POST to its last event delivered. */
async function measure(runtime: LocalRuntime, client: TestClient, body: unknown): Promise<Measured> {
  const meter = runtime.meter;
  if (!meter) throw new Error('The cost bench needs the runtime started with metering');
  await runtime.drainEvents();
  meter.reset();
  const invocations: InvocationRecord[] = [];
  const stopObserving = runtime.lambdas.observe((record) => invocations.push(record));
  let status: string;
  try {
    const orderId = await client.placeOrder(body);
    const executionArn = `${runtime.stateMachineArn.replace(':stateMachine:', ':execution:')}:${orderId}`;
    // Watched through Step Functions directly, not the API: the watching costs the order nothing.
    status = await waitForEnd(client, executionArn);
    // Events published at the end are delivered, and whatever their consumers publish in turn.
    await runtime.drainEvents();
    await sleep(200);
    await runtime.drainEvents();
    const history = await executionHistory(client, executionArn);
    const transitions = billedTransitions(history);
    const usage = meter.snapshot();
    const routeFunctions = new Set(
      runtime.deployment.routes.map((r) => runtime.deployment.functions.find((f) => f.arn === r.functionArn)?.name),
    );
    const byFunction: Record<string, number> = {};
    for (const i of invocations) byFunction[i.functionName] = (byFunction[i.functionName] ?? 0) + 1;
    return {
      status,
      byState: transitions.byState,
      retries: transitions.retries,
      byFunction,
      dynamodb: {
        byTable: usage.dynamodb.byTable,
        byOperation: usage.dynamodb.byOperation,
        requests: usage.requests.dynamodb,
        writeRequests: Object.entries(usage.requests.dynamodb)
          .filter(([operation]) => WRITE_OPERATIONS.has(operation))
          .reduce((n, [, count]) => n + count, 0),
        itemWrites: usage.dynamodb.itemWrites,
      },
      usage: {
        transitions: transitions.total,
        lambda: lambdaUsage(invocations),
        dynamodb: {
          readUnits: usage.dynamodb.readUnits,
          // A refused conditional write is billed at least one unit.
          writeUnits: usage.dynamodb.writeUnits + usage.dynamodb.failedWrites,
        },
        ses: { recipients: usage.ses.recipients, attachmentBytes: usage.ses.attachmentBytes },
        eventbridge: { billedEvents: usage.eventbridge.billedEvents },
        s3: { putRequests: usage.s3.putRequests, getRequests: usage.s3.getRequests, storedBytes: usage.s3.bytesIn },
        apiRequests: invocations.filter((i) => routeFunctions.has(i.functionName)).length,
        secretsManagerCalls: Object.values(usage.requests.secretsmanager).reduce((a, b) => a + b, 0),
      },
    };
  } finally {
    stopObserving();
  }
}

async function waitForEnd(client: TestClient, executionArn: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { status } = await client.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (status && status !== 'RUNNING') return status;
    await sleep(50);
  }
  throw new Error(`${executionArn} did not end within 60 s`);
}

async function executionHistory(client: TestClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken, includeExecutionData: false }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Runs the scenario, prints its checks; true when every one holds. */
