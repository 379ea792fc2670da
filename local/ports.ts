import { createServer } from 'node:net';

/**
 * Asks the OS for a port that is free right now. Another process may still grab it before
 * the caller binds it; callers that can listen on port 0 directly should prefer that.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const reservation = await reservePort(host);
  await reservation.release();
  return reservation.port;
}

/** A free port held by a bound socket until the service that will listen on it is about to. */
export interface PortReservation {
  port: number;
  /** Frees the port for its service; idempotent. */
  release(): Promise<void>;
}

/**
 * Binds a free port and keeps it bound, so that neither another process nor an outgoing
 * connection's ephemeral source port takes it while the runtime starts its other services.
 */
export async function reservePort(host = '127.0.0.1'): Promise<PortReservation> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`Could not find a free port on ${host}`);
  let released: Promise<void> | undefined;
  return {
    port: address.port,
    release: () => {
      released ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}

/** True when nothing listens on host:port (checked by binding it briefly). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
  if (free) await new Promise<void>((resolve) => server.close(() => resolve()));
  return free;
}

/** Whether a start failed because a port was taken (`portInUseError`, or a listener's `EADDRINUSE`). */
export function isPortTaken(error: unknown): boolean {
  return /is already in use|EADDRINUSE/.test(String(error));
}

export function portInUseError(service: string, host: string, port: number): Error {
  return new Error(
    `${service}: port ${port} on ${host} is already in use. Stop the process using it (e.g. \`ss -ltnp | grep :${port}\`) or pick another port.`,
  );
}
