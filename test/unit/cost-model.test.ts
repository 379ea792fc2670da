import { describe, expect, it } from 'vitest';
import {
  billedTransitions,
  costTable,
  dominant,
  lambdaUsage,
  type OrderUsage,
  orderCost,
  PRICES,
  total,
} from '../../test/bench/cost-model.ts';

const entered = (type: string, name: string) => ({ type: `${type}StateEntered`, stateEnteredEventDetails: { name } });

describe('billed state transitions', () => {
  it('counts every state entered, inside Map iterations too, and every retry', () => {
    const history = [
      { type: 'ExecutionStarted' },
      entered('Task', 'ValidateOrder'),
      { type: 'TaskScheduled' },
      { type: 'TaskStarted' },
      { type: 'TaskFailed' },
      // Retried twice: the same state entry, two more attempts.
      { type: 'TaskScheduled' },
      { type: 'TaskFailed' },
      { type: 'TaskScheduled' },
      { type: 'TaskSucceeded' },
      { type: 'TaskStateExited' },
      entered('Choice', 'NeedsApproval'),
      entered('Map', 'FulfilShipments'),
      { type: 'MapStateStarted' },
      { type: 'MapIterationStarted' },
      entered('Task', 'CreateShipment'),
      { type: 'TaskScheduled' },
      { type: 'MapIterationStarted' },
      entered('Task', 'CreateShipment'),
      { type: 'TaskScheduled' },
      entered('Pass', 'AllocationCancelled'),
      entered('Succeed', 'OrderCompleted'),
      { type: 'ExecutionSucceeded' },
    ];
    expect(billedTransitions(history)).toEqual({
      total: 9,
      retries: 2,
      byState: {
        ValidateOrder: 3,
        NeedsApproval: 1,
        FulfilShipments: 1,
        CreateShipment: 2,
        AllocationCancelled: 1,
        OrderCompleted: 1,
      },
    });
  });

  it('counts a plain Lambda ARN task attempt (LambdaFunctionScheduled) the same way', () => {
    const history = [
      entered('Task', 'A'),
      { type: 'LambdaFunctionScheduled' },
      { type: 'LambdaFunctionScheduled' },
      entered('Fail', 'B'),
    ];
    expect(billedTransitions(history)).toMatchObject({ total: 3, retries: 1 });
  });
});

describe('Lambda usage', () => {
  it('bills each invocation rounded up to the millisecond at its memory and architecture', () => {
    const usage = lambdaUsage([
      { memoryMb: 1024, architecture: 'arm64', durationMs: 10.2 }, // 11 ms at 1 GB
      { memoryMb: 512, architecture: 'arm64', durationMs: 100 }, // 100 ms at 0.5 GB
      { memoryMb: 2048, architecture: 'x86_64', durationMs: 0.4 }, // 1 ms at 2 GB
    ]);
    expect(usage.invocations).toBe(3);
    expect(usage.gbSeconds.arm64).toBeCloseTo(0.011 + 0.05, 12);
    expect(usage.gbSeconds.x86_64).toBeCloseTo(0.002, 12);
  });
});

const usage: OrderUsage = {
  transitions: 14,
  lambda: { invocations: 20, gbSeconds: { arm64: 2, x86_64: 0 } },
  dynamodb: { readUnits: 40, writeUnits: 200 },
  ses: { recipients: 3, attachmentBytes: 1024 ** 3 / 1000 },
  eventbridge: { billedEvents: 9 },
  s3: { putRequests: 1, getRequests: 2, storedBytes: 1024 ** 3 / 10_000 },
  apiRequests: 3,
  secretsManagerCalls: 4,
};

describe('the cost of one order', () => {
  it('prices every service at the list prices of the named region and date', () => {
    expect(PRICES.region).toBe('us-east-1');
    expect(PRICES.takenOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const lines = Object.fromEntries(orderCost(usage).map((l) => [l.service, l.usd]));
    expect(lines['Step Functions (Standard)']).toBeCloseTo(14 * 0.000025, 12);
    expect(lines.Lambda).toBeCloseTo(20 * 0.0000002 + 2 * 0.0000133334, 12);
    expect(lines['DynamoDB (on-demand)']).toBeCloseTo(200 * 0.000000625 + 40 * 0.000000125, 12);
    expect(lines.SES).toBeCloseTo(3 * 0.0001 + 0.12 / 1000, 12);
    expect(lines['EventBridge (custom events)']).toBeCloseTo(9 * 0.000001, 12);
    expect(lines['S3 (requests, 1 month storage)']).toBeCloseTo(0.000005 + 2 * 0.0000004 + 0.023 / 10_000, 12);
    expect(lines['API Gateway (HTTP API)']).toBeCloseTo(3 * 0.000001, 12);
    expect(lines['Secrets Manager (API calls)']).toBeCloseTo(4 * 0.000005, 12);
  });

  it('bills x86_64 GB-seconds at the x86 price', () => {
    const x86 = orderCost({ ...usage, lambda: { invocations: 0, gbSeconds: { arm64: 0, x86_64: 1 } } });
    expect(x86.find((l) => l.service === 'Lambda')?.usd).toBeCloseTo(0.0000166667, 12);
  });

  it('names the service with the largest share', () => {
    const lines = orderCost(usage);
    const top = dominant(lines);
    // 3 recipients and 1/1000 GB attached (420 µ$) outweigh 14 transitions (350 µ$).
    expect(top.line.service).toBe('SES');
    expect(top.share).toBeCloseTo(0.00042 / total(lines), 12);
  });

  it('prints a row per service and a total, per order and for 10k and 1M orders a month', () => {
    const table = costTable(orderCost(usage)).split('\n');
    expect(table[0]).toBe('| Service | Per order | µ$ per order | 10,000 orders/month | 1,000,000 orders/month |');
    expect(table).toHaveLength(2 + 8 + 1);
    expect(table.find((r) => r.startsWith('| Step Functions'))).toBe(
      '| Step Functions (Standard) | 14 transitions | 350 | $3.50 | $350.00 |',
    );
    const sum = total(orderCost(usage));
    expect(table.at(-1)).toContain(`**$${(sum * 1_000_000).toFixed(2)}**`);
  });
});
