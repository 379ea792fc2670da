import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort, isPortFree, portInUseError } from '../ports.ts';
import { type EmulatorOptions, type LocalEmulator, localCredentials } from './emulator.ts';

/**
 * Runs the official DynamoDB Local (a Java server) shipped inside the `amplify-dynamodb-simulator`
 * npm package, so the real DynamoDB semantics (conditions, transactions, GSIs) are available offline.
 */
export interface DynamoDbLocalOptions extends EmulatorOptions {
  /** How long to wait for the JVM to answer; cold starts on small machines take a few seconds. */
  startTimeoutMs?: number;
  /**
   * One database for every access key and region (`-sharedDb`, the default): the functions, the
   * AWS CLI and scripts see the same tables whatever credentials they sign with. False keeps a
   * database per access key and region, so that runtimes sharing one JVM (the tests') each have their own.
   */
  sharedDb?: boolean;
}

const MIN_JAVA_MAJOR = 17;
const INSTALL_HINT =
  'Install a Java runtime 17 or newer: on Debian/Ubuntu `apt-get install -y default-jre-headless`, ' +
  'otherwise any JDK/JRE 17+ (e.g. Eclipse Temurin), and make sure `java` is on PATH or JAVA_HOME is set.';

function emulatorDirectory(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

function javaBinary(): string {
  const fromHome = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  return fromHome && existsSync(fromHome) ? fromHome : 'java';
}

/** `1.8.0_392` -> 8, `17.0.15` -> 17, `21` -> 21. */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match?.[1]) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] ? Number(match[2]) : first;
}

let checkedJava: string | undefined;

/** Fails early with an actionable message instead of a cryptic spawn error or JVM class-version crash. */
function assertJava(): string {
  if (checkedJava) return checkedJava;
  const java = javaBinary();
  const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (result.error) {
    throw new Error(
      `DynamoDB Local needs Java, but \`${java}\` could not be run (${result.error.message}). ${INSTALL_HINT}`,
    );
  }
  // `java -version` prints to stderr.
  const output = `${result.stderr}${result.stdout}`;
  const major = parseJavaMajor(output);
  if (major === undefined || major < MIN_JAVA_MAJOR) {
    const found = output.split('\n')[0]?.trim() || 'unknown version';
    throw new Error(`DynamoDB Local needs Java ${MIN_JAVA_MAJOR}+, found: ${found}. ${INSTALL_HINT}`);
  }
  checkedJava = java;
  return java;
}

// --- JVM lifetime: a JVM left behind would keep the port and memory after Node is gone. ---

const running = new Set<ChildProcess>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let cleanupRegistered = false;

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  unregisterCleanup();
  // Listening for a signal disables Node's default "exit on signal"; restore it unless someone else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function registerCleanup(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.on('exit', killAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function unregisterCleanup(): void {
  if (!cleanupRegistered) return;
  cleanupRegistered = false;
  process.off('exit', killAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

function track(child: ChildProcess): void {
  registerCleanup();
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    if (running.size === 0) unregisterCleanup();
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function terminate(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// --- readiness ---

/** Keeps the last few KB of JVM output so failures can show why without unbounded memory. */
function captureOutput(child: ChildProcess): () => string {
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8_192);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => output.trim();
}

async function answersListTables(client: DynamoDBClient): Promise<boolean> {
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  }
}

async function waitUntilReady(
  child: ChildProcess,
  endpoint: string,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: localCredentials,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 500, requestTimeout: 2_000 },
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (hasExited(child)) throw new Error(`DynamoDB Local exited during startup (code ${child.exitCode}).`);
      // A bind failure leaves the JVM alive (Jetty threads), so it has to be spotted in the output.
      if (/Address already in use|Failed to bind/.test(output()))
        throw new Error('DynamoDB Local could not bind its port.');
      if (await answersListTables(client)) return;
      await sleep(100);
    }
    throw new Error(`DynamoDB Local did not answer within ${timeoutMs} ms.`);
  } finally {
    client.destroy();
  }
}

/**
 * The JVM compiles with C1 only: C2's optimising compiler pays off in a server that runs for hours, but
 * DynamoDB Local runs for a test run, a bench or a working session, and its compilations are most of
 * the CPU its first minute takes. Measured on 2 cores, alternating: a runtime's start and one order
 * 12.1 -> 9.3 CPU-seconds, the 200-order load test 112 -> 94 (and 62 -> 56 s); with one JVM shared by
 * the test files, three workflow files took 205 CPU-seconds with C1 only, 244 with C2.
 */
export const JVM_OPTIONS = ['-XX:TieredStopAtLevel=1'];

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<LocalEmulator> {
  const startedAt = performance.now();
  const host = options.host ?? '127.0.0.1';
  const java = assertJava();
  // DynamoDB Local always binds every interface, so that is where the port must be free.
  const port = options.port ?? (await freePort(host));
  if (!(await isPortFree(port, '0.0.0.0'))) throw portInUseError('DynamoDB Local', '0.0.0.0', port);

  const emulator = emulatorDirectory();
  const child = spawn(
    java,
    [
      ...JVM_OPTIONS,
      `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(emulator, 'DynamoDBLocal.jar'),
      '-inMemory',
      ...(options.sharedDb === false ? [] : ['-sharedDb']),
      '-port',
      String(port),
      '-disableTelemetry',
    ],
    { cwd: emulator, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  track(child);
  const output = captureOutput(child);
  const endpoint = `http://${host}:${port}`;

  try {
    await waitUntilReady(child, endpoint, options.startTimeoutMs ?? 60_000, output);
  } catch (error) {
    await terminate(child, 1_000);
    const reason = error instanceof Error ? error.message : String(error);
    // Taken between the check above and the JVM's bind: the same error as when it was taken before.
    const message = /bind/.test(reason) ? portInUseError('DynamoDB Local', '0.0.0.0', port).message : reason;
    throw new Error(`${message}\n--- JVM output ---\n${output() || '(none)'}`);
  }

  return {
    endpoint,
    port,
    startupMs: Math.round(performance.now() - startedAt),
    stop: () => terminate(child),
  };
}
