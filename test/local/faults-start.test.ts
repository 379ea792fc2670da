import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultCounts } from '../../local/faults.ts';
import { type NpmStart, npmStart } from '../support/npm-start.ts';

/**
 * `LOCAL_FAULT_RATE=… npm start`: the banner says so, the functions' AWS calls fail at that rate
 * (here with the SDK retries turned off through AWS_MAX_ATTEMPTS=1), callers outside the functions
 * reach the emulators unharmed, and the counts are served and printed on exit.
 */
let system: NpmStart;
let ports: Record<string, number>;
const output = () => system.output();

beforeAll(async () => {
  system = await npmStart({ LOCAL_FAULT_RATE: '0.3', AWS_MAX_ATTEMPTS: '1' });
  ports = system.ports;
}, 200_000);

afterAll(() => system?.stop());

describe('npm start in fault mode', () => {
  it('announces fault mode and where its counts are', () => {
    expect(output()).toContain('FAULT MODE');
    expect(output()).toContain('30% of the functions');
    expect(output()).toContain('SDK attempts per call: 1');
    expect(output()).toContain(`http://127.0.0.1:${ports.FAULTS}/faults`);
  });

  it('fails the functions’ AWS calls, not those of other callers', async () => {
    const health = [];
    for (let i = 0; i < 20; i++) health.push((await fetch(`http://127.0.0.1:${ports.API}/health`)).status);
    // The health function calls five services: at 30% faults and no SDK retry, most checks see one fail.
    expect(health.filter((status) => status === 503).length).toBeGreaterThan(5);

    const direct = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${ports.DYNAMODB}`,
      credentials: { accessKeyId: 'cli', secretAccessKey: 'cli' },
      maxAttempts: 1,
    });
    for (let i = 0; i < 20; i++)
      expect((await direct.send(new ListTablesCommand({}))).TableNames?.length).toBeGreaterThan(0);

    const counts = (await (await fetch(`http://127.0.0.1:${ports.FAULTS}/faults`)).json()) as FaultCounts;
    expect(counts.rate).toBe(0.3);
    expect(counts.byService.dynamodb.requests).toBeGreaterThanOrEqual(20);
    expect(counts.total.before).toBeGreaterThan(0);
    expect(counts.total.after).toBeGreaterThan(0);
  });

  it('prints what it injected when stopped', async () => {
    system.interrupt();
    await new Promise((resolve) => system.child.once('exit', resolve));
    expect(output()).toMatch(
      /Faults injected: \d+ before and \d+ after the service acted, in \d+ AWS calls \(dynamodb /,
    );
  });
});
