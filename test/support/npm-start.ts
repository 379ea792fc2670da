import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, isPortTaken } from '../../local/ports.ts';
import { sleep } from './runtime.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm start` as a newcomer runs it, on free ports (`LOCAL_<NAME>_PORT`), until `Ready in`. */
export interface NpmStart {
  child: ChildProcess;
  ports: Record<string, number>;
  /** Everything it printed so far. */
  output(): string;
  /** Ctrl-C in a terminal signals the whole foreground process group: npm, tsx and node. */
  interrupt(): void;
  /** Interrupts it (if still running) and waits for it to exit. */
  stop(): Promise<void>;
}

const PORTS = ['API', 'DYNAMODB', 'SES', 'SFN', 'EVENTBRIDGE', 'S3', 'SECRETS', 'AUTH', 'FAULTS'];

/**
 * Free ports are picked before `npm start` binds them, so a busy machine (other test files pick
 * free ports too) can take one in between: `npm start` then says so and exits, and it is started
 * again on other free ports.
 */
export async function npmStart(env: Record<string, string>): Promise<NpmStart> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env);
    } catch (error) {
      // Said by npm start for the port it names, or by the listener itself (`EADDRINUSE`).
      if (attempt >= 3 || !isPortTaken(error)) throw error;
    }
  }
}

async function startOnce(env: Record<string, string>): Promise<NpmStart> {
  const ports: Record<string, number> = {};
  for (const name of PORTS) ports[name] = await freePort();
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [`LOCAL_${name}_PORT`, String(port)])),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const running = () => child.exitCode === null && child.signalCode === null;
  const interrupt = () => process.kill(-(child.pid as number), 'SIGINT');
  const started: NpmStart = {
    child,
    ports,
    output: () => output,
    interrupt,
    stop: async () => {
      if (!running()) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      interrupt();
      await exited;
    },
  };
  try {
    const deadline = Date.now() + 180_000;
    while (!output.includes('Ready in')) {
      if (!running()) throw new Error('npm start exited');
      if (Date.now() > deadline) throw new Error('not ready within 180 s');
      await sleep(200);
    }
  } catch (error) {
    await started.stop();
    throw new Error(`npm start did not become ready: ${error}\n${output}`);
  }
  return started;
}
