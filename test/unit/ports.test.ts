import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isPortFree, isPortTaken, portInUseError, reservePort } from '../../local/ports.ts';

const bind = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });

describe('port reservations', () => {
  it('holds a free port until released, then frees it for its service', async () => {
    const reservation = await reservePort('127.0.0.1');
    expect(reservation.port).toBeGreaterThan(0);
    await expect(bind(reservation.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(await isPortFree(reservation.port)).toBe(false);

    await reservation.release();
    await reservation.release(); // idempotent
    await expect(bind(reservation.port)).resolves.toBeUndefined();
  });

  it('tells a taken port from other start-up failures', () => {
    expect(isPortTaken(portInUseError('SES local', '127.0.0.1', 8005))).toBe(true);
    expect(
      isPortTaken(Object.assign(new Error('listen EADDRINUSE: address already in use'), { code: 'EADDRINUSE' })),
    ).toBe(true);
    expect(isPortTaken(new Error('DynamoDB Local did not answer within 60000 ms.'))).toBe(false);
  });
});
