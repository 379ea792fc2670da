import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SandboxCarrier } from '../../functions/adapters/carrier.ts';
import { verifySignature } from '../../functions/core/signature.ts';

const address = { name: 'Jane Doe', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' };
let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A webhook that answers the given statuses in turn and records what it received. */
async function webhook(statuses: number[]) {
  const received: { status: string; signed: boolean }[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const check = verifySignature({
        secret: 'secret',
        timestamp: req.headers['x-timestamp'] as string,
        signature: req.headers['x-signature'] as string,
        rawBody: body,
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      received.push({ status: JSON.parse(body).status, signed: check.ok });
      res.writeHead(statuses.shift() ?? 202).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/carrier`;
  return { url, received };
}

const until = async (condition: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe('sandbox carrier webhook', () => {
  it('retries a status event the webhook did not accept (shipment not recorded yet, server error)', async () => {
    const hook = await webhook([404, 500]);
    const carrier = new SandboxCarrier({ webhookUrl: hook.url, webhookSecret: async () => 'secret', deliveryMs: 0 });
    await carrier.createShipment({ shipmentId: 'ord-1-1', address, parcels: 1 });
    await until(() => hook.received.filter((r) => r.status === 'DELIVERED').length > 0 && hook.received.length >= 4);
    // Two events (IN_TRANSIT, DELIVERED), two refusals between them: four signed posts, both events delivered.
    expect(hook.received).toHaveLength(4);
    expect(hook.received.every((r) => r.signed)).toBe(true);
    expect(new Set(hook.received.map((r) => r.status))).toEqual(new Set(['IN_TRANSIT', 'DELIVERED']));
  });

  it('does not retry a refused signature', async () => {
    const hook = await webhook([401, 401]);
    const carrier = new SandboxCarrier({ webhookUrl: hook.url, webhookSecret: async () => 'secret', deliveryMs: 0 });
    await carrier.createShipment({ shipmentId: 'ord-2-1', address, parcels: 1 });
    await until(() => hook.received.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(hook.received).toHaveLength(2);
  });
});
