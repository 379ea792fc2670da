/**
 * The cost of one order in AWS: published list prices of one region, and the arithmetic from
 * measured usage to dollars. Pure (no I/O), unit-tested in test/unit/cost-model.test.ts; the
 * measuring is test/bench/cost.ts.
 */

/**
 * List prices in US East (N. Virginia), us-east-1, in USD, as published on the services' pricing
 * pages on the date below. Free tiers and savings plans are left out: this is the marginal cost.
 */
export const PRICES = {
  region: 'us-east-1',
  takenOn: '2026-11-29',
  /** aws.amazon.com/step-functions/pricing: Standard workflows, $0.025 per 1,000 state transitions. */
  stepFunctionsTransition: 0.025 / 1_000,
  /** aws.amazon.com/lambda/pricing: $0.20 per 1M requests. */
  lambdaRequest: 0.2 / 1_000_000,
  /** aws.amazon.com/lambda/pricing: duration, first tier (6 / 7.5 billion GB-s a month). */
  lambdaGbSecond: { x86_64: 0.0000166667, arm64: 0.0000133334 },
  /** aws.amazon.com/dynamodb/pricing/on-demand: $0.625 per million WRU, $0.125 per million RRU (since November 2024). */
  dynamodbWriteUnit: 0.625 / 1_000_000,
  dynamodbReadUnit: 0.125 / 1_000_000,
  /** aws.amazon.com/ses/pricing, à la carte: $0.10 per 1,000 outbound recipients, $0.12 per GB of attachments. */
  sesRecipient: 0.1 / 1_000,
  sesAttachmentGb: 0.12,
  /** aws.amazon.com/eventbridge/pricing: custom events, $1.00 per million (each 64 KB chunk is one event). */
  eventBridgeEvent: 1 / 1_000_000,
  /** aws.amazon.com/s3/pricing, S3 Standard: PUT/COPY/POST/LIST $0.005 per 1,000, GET $0.0004 per 1,000, storage $0.023 per GB-month (first 50 TB). */
  s3PutRequest: 0.005 / 1_000,
  s3GetRequest: 0.0004 / 1_000,
  s3StorageGbMonth: 0.023,
  /** aws.amazon.com/api-gateway/pricing: HTTP APIs, $1.00 per million requests (first 300 million). */
  httpApiRequest: 1 / 1_000_000,
  /** aws.amazon.com/secrets-manager/pricing: $0.05 per 10,000 API calls. */
  secretsManagerCall: 0.05 / 10_000,
} as const;

export type Prices = typeof PRICES;
export type Architecture = keyof Prices['lambdaGbSecond'];

const GIB = 1024 ** 3;

/** What one order used, as measured. */
export interface OrderUsage {
  transitions: number;
  lambda: { invocations: number; gbSeconds: Record<Architecture, number> };
  dynamodb: { readUnits: number; writeUnits: number };
  ses: { recipients: number; attachmentBytes: number };
  eventbridge: { billedEvents: number };
  s3: { putRequests: number; getRequests: number; storedBytes: number };
  apiRequests: number;
  secretsManagerCalls: number;
}

export interface CostLine {
  service: string;
  /** What was counted, readable (e.g. `14 transitions`). */
  usage: string;
  usd: number;
}

// --- Step Functions -------------------------------------------------------------------------

export interface HistoryEventLike {
  type?: string;
  stateEnteredEventDetails?: { name?: string };
}

/**
 * Billed state transitions of one Standard execution, from its history. AWS: "Step Functions
 * counts a state transition each time a step of your workflow is executed … including retries"
 * and "each retry will be charged as an additional state transition". So: one per state entered
 * (every `…StateEntered` event: Task, Choice, Pass, Map, the states inside each Map iteration,
 * Succeed, Fail), plus one per retry, i.e. per Task attempt after a state's first (each attempt is
 * one `TaskScheduled` / `LambdaFunctionScheduled` event). Execution start and end are not steps.
 */
export function billedTransitions(events: readonly HistoryEventLike[]): {
  total: number;
  retries: number;
  byState: Record<string, number>;
} {
  const byState: Record<string, number> = {};
  let retries = 0;
  // Attempts of the Task entered last; retries happen within one entry of a state.
  let current: { name: string; attempts: number } | undefined;
  for (const event of events) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      const name = event.stateEnteredEventDetails?.name ?? '?';
      byState[name] = (byState[name] ?? 0) + 1;
      current = type === 'TaskStateEntered' ? { name, attempts: 0 } : undefined;
    } else if ((type === 'TaskScheduled' || type === 'LambdaFunctionScheduled') && current) {
      current.attempts++;
      if (current.attempts > 1) {
        retries++;
        byState[current.name] = (byState[current.name] ?? 0) + 1;
      }
    }
  }
  const total = Object.values(byState).reduce((a, b) => a + b, 0);
  return { total, retries, byState };
}

// --- Lambda -----------------------------------------------------------------------------------

export interface InvocationLike {
  memoryMb: number;
  architecture: Architecture;
  durationMs: number;
}

/** Lambda bills each invocation's duration rounded up to the next millisecond, at the configured memory. */
export function lambdaUsage(invocations: readonly InvocationLike[]): OrderUsage['lambda'] {
  const gbSeconds: Record<Architecture, number> = { arm64: 0, x86_64: 0 };
  for (const i of invocations) gbSeconds[i.architecture] += (Math.ceil(i.durationMs) / 1000) * (i.memoryMb / 1024);
  return { invocations: invocations.length, gbSeconds };
}

// --- Pricing --------------------------------------------------------------------------------

const n = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/** The cost of one order, line by line (a line per service, in a fixed order). */
export function orderCost(usage: OrderUsage, prices: Prices = PRICES): CostLine[] {
  const gbs = usage.lambda.gbSeconds;
  return [
    {
      service: 'Step Functions (Standard)',
      usage: `${usage.transitions} transitions`,
      usd: usage.transitions * prices.stepFunctionsTransition,
    },
    {
      service: 'Lambda',
      usage: `${usage.lambda.invocations} invocations, ${n(gbs.arm64 + gbs.x86_64, 3)} GB-s`,
      usd:
        usage.lambda.invocations * prices.lambdaRequest +
        gbs.arm64 * prices.lambdaGbSecond.arm64 +
        gbs.x86_64 * prices.lambdaGbSecond.x86_64,
    },
    {
      service: 'DynamoDB (on-demand)',
      usage: `${n(usage.dynamodb.writeUnits, 1)} WRU, ${n(usage.dynamodb.readUnits, 1)} RRU`,
      usd: usage.dynamodb.writeUnits * prices.dynamodbWriteUnit + usage.dynamodb.readUnits * prices.dynamodbReadUnit,
    },
    {
      service: 'SES',
      usage: `${usage.ses.recipients} recipients, ${n(usage.ses.attachmentBytes / 1024)} KB attached`,
      usd: usage.ses.recipients * prices.sesRecipient + (usage.ses.attachmentBytes / GIB) * prices.sesAttachmentGb,
    },
    {
      service: 'EventBridge (custom events)',
      usage: `${usage.eventbridge.billedEvents} events`,
      usd: usage.eventbridge.billedEvents * prices.eventBridgeEvent,
    },
    {
      service: 'S3 (requests, 1 month storage)',
      usage: `${usage.s3.putRequests} PUT, ${usage.s3.getRequests} GET, ${n(usage.s3.storedBytes / 1024)} KB`,
      usd:
        usage.s3.putRequests * prices.s3PutRequest +
        usage.s3.getRequests * prices.s3GetRequest +
        (usage.s3.storedBytes / GIB) * prices.s3StorageGbMonth,
    },
    {
      service: 'API Gateway (HTTP API)',
      usage: `${usage.apiRequests} request${usage.apiRequests === 1 ? '' : 's'}`,
      usd: usage.apiRequests * prices.httpApiRequest,
    },
    {
      service: 'Secrets Manager (API calls)',
      usage: `${usage.secretsManagerCalls} calls`,
      usd: usage.secretsManagerCalls * prices.secretsManagerCall,
    },
  ];
}

export const total = (lines: readonly CostLine[]) => lines.reduce((sum, line) => sum + line.usd, 0);

/** The line with the largest share of the total, and that share (0..1). */
export function dominant(lines: readonly CostLine[]): { line: CostLine; share: number } {
  const sum = total(lines);
  const line = lines.reduce((a, b) => (b.usd > a.usd ? b : a));
  return { line, share: sum > 0 ? line.usd / sum : 0 };
}

export const MONTHLY_VOLUMES = [10_000, 1_000_000] as const;

const usd = (value: number) =>
  value === 0
    ? '$0'
    : value < 0.01
      ? `$${value.toPrecision(2)}`
      : `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/**
 * A Markdown table: one row per service with its usage per order, its cost per order (in
 * millionths of a dollar, µ$) and per month at each volume; a total row at the bottom.
 */
export function costTable(lines: readonly CostLine[], volumes: readonly number[] = MONTHLY_VOLUMES): string {
  const header = ['Service', 'Per order', 'µ$ per order', ...volumes.map((v) => `${n(v)} orders/month`)];
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rows = lines.map((line) =>
    row([line.service, line.usage, n(line.usd * 1e6, 2), ...volumes.map((v) => usd(line.usd * v))]),
  );
  const sum = total(lines);
  return [
    row(header),
    row(header.map((_, i) => (i < 2 ? '---' : '---:'))),
    ...rows,
    row(['**Total**', '', `**${n(sum * 1e6, 2)}**`, ...volumes.map((v) => `**${usd(sum * v)}**`)]),
  ].join('\n');
}
