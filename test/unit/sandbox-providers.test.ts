import { afterEach, describe, expect, it, vi } from 'vitest';
import { SandboxCarrier } from '../../functions/adapters/carrier.ts';
import { paymentKey, SandboxPaymentProvider } from '../../functions/adapters/payments.ts';

const address = { name: 'Jane Doe', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' };

describe('sandbox payment provider (keyed calls)', () => {
  const provider = new SandboxPaymentProvider();
  const request = (orderId: string, token = 'tok_visa') => ({
    idempotencyKey: paymentKey(orderId, 'authorize'),
    orderId,
    token,
    amount: 1000,
    currency: 'EUR',
  });

  it('answers a repeated authorization with the first one, and counts a second void or capture as success', async () => {
    const first = await provider.authorize(request('ord-pay-1'));
    expect(await provider.authorize(request('ord-pay-1'))).toEqual(first);
    await provider.void({ authorizationKey: paymentKey('ord-pay-1', 'authorize') });
    await expect(provider.void({ authorizationKey: paymentKey('ord-pay-1', 'authorize') })).resolves.toBeUndefined();

    await provider.authorize(request('ord-pay-2'));
    await provider.capture({ authorizationKey: paymentKey('ord-pay-2', 'authorize'), amount: 1000 });
    await expect(
      provider.capture({ authorizationKey: paymentKey('ord-pay-2', 'authorize'), amount: 1000 }),
    ).resolves.toBeUndefined();
  });

  it('never voids a captured payment', async () => {
    await provider.authorize(request('ord-pay-3'));
    await provider.capture({ authorizationKey: paymentKey('ord-pay-3', 'authorize'), amount: 1000 });
    await expect(provider.void({ authorizationKey: paymentKey('ord-pay-3', 'authorize') })).rejects.toMatchObject({
      name: 'PaymentAlreadyCaptured',
    });
  });

  it('voids by key an authorization whose answer was never seen, and refuses it if it arrives later', async () => {
    await provider.void({ authorizationKey: paymentKey('ord-pay-4', 'authorize') });
    await expect(provider.authorize(request('ord-pay-4'))).rejects.toMatchObject({ name: 'PaymentDeclined' });
    // Another instance of the sandbox (another function) keeps the same books.
    await expect(new SandboxPaymentProvider().authorize(request('ord-pay-4'))).rejects.toMatchObject({
      name: 'PaymentDeclined',
    });
  });
});

describe('sandbox carrier cancellation', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('cancels a parcel not picked up (never reported afterwards), and refuses once it left', async () => {
    vi.useFakeTimers();
    const posted: string[] = [];
    vi.stubGlobal('fetch', async (_url: string, init: { body: string }) => {
      posted.push(JSON.parse(init.body).status);
      return new Response(null, { status: 202 });
    });
    const carrier = new SandboxCarrier({
      webhookUrl: 'http://carrier.test/webhook',
      webhookSecret: async () => 'shh',
      deliveryMs: 1000,
    });
    const booked = await carrier.createShipment({ shipmentId: 'ord-ship-1-1', address, parcels: 1 });
    expect(await carrier.cancel({ shipmentId: 'ord-ship-1-1', ...booked })).toEqual({ cancelled: true });
    expect(await carrier.cancel({ shipmentId: 'ord-ship-1-1', ...booked })).toEqual({ cancelled: true });
    await vi.advanceTimersByTimeAsync(2000);
    expect(posted).toEqual([]);

    const other = await carrier.createShipment({ shipmentId: 'ord-ship-2-1', address, parcels: 1 });
    await vi.advanceTimersByTimeAsync(600); // picked up: IN_TRANSIT reported
    expect(await carrier.cancel({ shipmentId: 'ord-ship-2-1', ...other })).toEqual({ cancelled: false });
    await vi.advanceTimersByTimeAsync(1000);
    expect(posted).toEqual(['IN_TRANSIT', 'DELIVERED']);
  });
});
