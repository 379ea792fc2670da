import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, portInUseError } from '../ports.ts';
import type { EmulatorOptions, LocalEmulator } from './emulator.ts';

/**
 * Local S3 from the `s3rver` package, storing objects as files. Clients must use
 * `forcePathStyle: true` (bucket in the path, not the host name).
 */
export interface S3LocalOptions extends EmulatorOptions {
  /** Where objects are stored; a fresh temporary directory (removed on stop) by default. */
  directory?: string;
}

// s3rver ships no type declarations: describe the little that is used.
interface S3rverInstance {
  listen(port: number, host: string, callback: () => void): Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;
interface S3rverAccounts {
  DUMMY_ACCOUNT: unknown;
  registry: Map<string, unknown>;
}
const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as S3rverConstructor;

/**
 * s3rver only knows the access key `S3RVER`, but local clients sign with whatever credentials they
 * have (the tests use `local`, Lambda code uses its environment). Resolve any unknown key to the
 * built-in account; s3rver does not verify SigV4 signatures anyway. Process-wide and idempotent.
 */
class AnyAccessKey extends Map<string, unknown> {
  constructor(
    entries: Map<string, unknown>,
    private readonly fallback: unknown,
  ) {
    super(entries);
  }

  override get(key: string): unknown {
    return super.get(key) ?? this.fallback;
  }
}

function acceptAnyAccessKey(): void {
  const accounts = require('s3rver/lib/models/account.js') as S3rverAccounts;
  if (accounts.registry instanceof AnyAccessKey) return;
  accounts.registry = new AnyAccessKey(accounts.registry, accounts.DUMMY_ACCOUNT);
}

async function listen(s3rver: S3rverInstance, host: string, port: number): Promise<Server> {
  // s3rver's promise-returning run() leaves listen errors unhandled (a process crash on a busy
  // port), so use the callback form and watch the server's error event instead.
  return new Promise((resolve, reject) => {
    const server = s3rver.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
    server.once('error', reject);
  });
}

export async function startS3Local(options: S3LocalOptions = {}): Promise<LocalEmulator> {
  const startedAt = performance.now();
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 's3-local-')));
  const removeDirectory = () => (ownsDirectory ? rm(directory, { recursive: true, force: true }) : Promise.resolve());

  acceptAnyAccessKey();
  const s3rver = new S3rver({
    directory,
    silent: true,
    // Legacy SigV2 signatures made with any key other than S3RVER would otherwise be rejected.
    allowMismatchedSignatures: true,
    // Path-style only: otherwise a non-IP host name (e.g. host.docker.internal) is taken as a bucket name.
    vhostBuckets: false,
  });
  let server: Server;
  try {
    server = await listen(s3rver, host, port);
  } catch (error) {
    await removeDirectory();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUseError('S3 local', host, port);
    throw error;
  }

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await removeDirectory();
  };
  return {
    endpoint: `http://${host}:${port}`,
    port,
    startupMs: Math.round(performance.now() - startedAt),
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}
