import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../local/emulators/dynamodb.ts';
import { freePort } from '../../local/ports.ts';
import { startLocalRuntime } from '../../local/runtime.ts';
import { dynamoDbLocalPid } from '../bench/cpu.ts';

const FREE = { api: 0, dynamodb: 0, ses: 0, stepfunctions: 0, eventbridge: 0, s3: 0, secretsmanager: 0, auth: 0 };
const held: Server[] = [];
const hold = (options: { port: number; host: string; ipv6Only?: boolean }) =>
  new Promise<void>((resolve, reject) => {
    const server = createServer();
    held.push(server);
    server.once('error', reject);
    server.listen(options, () => resolve());
  });
/** This process's java children (DynamoDB Local). */
const javaChildren = () => {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), 'java'], { encoding: 'utf8' }).trim();
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
};

afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('local runtime start-up failures', () => {
  it('stops the emulators that started when another could not, leaving no JVM behind', async () => {
    const taken = await freePort();
    await hold({ port: taken, host: '127.0.0.1' });
    await expect(startLocalRuntime({ ports: { ...FREE, ses: taken }, seed: false })).rejects.toThrow(
      /is already in use/,
    );
    expect(javaChildren()).toBe('');
  });

  it('names a port DynamoDB Local could not bind as in use, whenever it was taken', async () => {
    // Free on IPv4 (the check before the JVM starts) but taken on IPv6, which the JVM binds too.
    const port = await freePort();
    await hold({ port, host: '::', ipv6Only: true });
    await expect(startDynamoDbLocal({ port })).rejects.toThrow(
      /DynamoDB Local: port \d+ on 0\.0\.0\.0 is already in use/,
    );
    expect(javaChildren()).toBe('');
  });
});

describe('DynamoDB Local', () => {
  it('runs with the C1 compiler only (a short-lived JVM spends most of its first minute compiling for C2)', async () => {
    const emulator = await startDynamoDbLocal();
    try {
      const pid = dynamoDbLocalPid(emulator.port);
      expect(pid).toBeDefined();
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(args).toContain('-XX:TieredStopAtLevel=1');
      expect(args.indexOf('-XX:TieredStopAtLevel=1')).toBeLessThan(args.indexOf('-jar'));
    } finally {
      await emulator.stop();
    }
  });
});
