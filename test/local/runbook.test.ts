import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALARMS } from '../../infra/constructs/observability.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * The README's operations runbook, run as written with the AWS CLI against the local runtime: find an
 * execution by order id, redrive it, replay the archive into the bus. CI installs the CLI (.ci/run).
 */
const run = promisify(execFile);
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
let runtime: LocalRuntime;
let client: TestClient;
let sfn: SFNClient;

/** The README block marked `<!-- runbook: name -->`, pointed at this runtime's ports. */
function block(name: string): string {
  const match = new RegExp(`<!-- runbook: ${name} -->\\s*\`\`\`bash\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!match) throw new Error(`README has no block marked runbook: ${name}`);
  return (match[1] as string)
    .replaceAll('http://127.0.0.1:8083', runtime.urls.stepfunctions)
    .replaceAll('http://127.0.0.1:8084', runtime.urls.eventbridge);
}

/** Runs the set-up block, then the named blocks, in one shell (as an operator would type them). */
async function runbook(names: string[], env: Record<string, string> = {}): Promise<string> {
  const script = [block('local-setup'), ...names.map(block)].join('\n');
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
    env: {
      ...process.env,
      ...env,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      // AWS CLI v2 pipes output through a pager by default.
      AWS_PAGER: '',
    },
    timeout: 60_000,
  });
  return stdout;
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  client = new TestClient(runtime);
  sfn = new SFNClient({
    endpoint: runtime.urls.stepfunctions,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  sfn?.destroy();
  await runtime?.stop();
});

const executionArn = (orderId: string) =>
  `${runtime.stateMachineArn.replace(':stateMachine:', ':execution:')}:${orderId}`;
const ended = (orderId: string) =>
  eventually(async () => {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(orderId) }));
    return execution.status === 'RUNNING' ? undefined : execution;
  });

describe('operations runbook (README), with the AWS CLI against the local runtime', () => {
  it('finds a failed execution by its order id and redrives it', async () => {
    const orderId = await client.placeOrder(orderBody({ payment: { method: 'card', token: 'tok_declined' } }));
    expect((await ended(orderId)).status).toBe('FAILED');

    const found = await runbook(['find-execution'], { ORDER_ID: orderId });
    const [execution, history] = found
      .trim()
      .split(/\n(?=\[)/)
      .map((part) => JSON.parse(part));
    expect(execution).toEqual({ status: 'FAILED', error: 'PaymentDeclined', redriveStatus: 'REDRIVABLE' });
    expect(history[0]).toBe('ExecutionFailed');
    expect(history).toContain('FailStateEntered');

    // The order was closed FAILED (declined card) before its execution ended: redriven, it ends in
    // the same Fail state, and the order stays as the customer was told.
    const redriven = await runbook(['find-execution', 'redrive'], { ORDER_ID: orderId });
    expect(redriven).toContain('"redriveDate"');
    expect(redriven).toContain('"redriveCount": 1');
    const after = await ended(orderId);
    expect(after).toMatchObject({ status: 'FAILED', redriveCount: 1 });
    expect((await client.order(orderId)).status).toBe('FAILED');
  });

  it('replays the archived order events of the last hour into the bus', async () => {
    const orderId = await client.placeOrder(orderBody());
    expect((await ended(orderId)).status).toBe('SUCCEEDED');
    await runtime.drainEvents();
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the window ends 2 s ago
    const states = (await runbook(['replay'])).trim().split('\n');
    expect(states).toEqual(['STARTING', 'COMPLETED']);
    await runtime.drainEvents();
  });

  it('has a runbook entry for every alarm', () => {
    const runbookSection = README.slice(README.indexOf('## Operations runbook'), README.indexOf('## Configuration'));
    for (const name of Object.keys(ALARMS)) expect(runbookSection, name).toContain(`**${name}**`);
  });
});
