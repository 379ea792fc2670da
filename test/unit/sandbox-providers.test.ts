import { afterEach, describe, expect, it, vi } from 'vitest';
import { SandboxCarrier } from '../../functions/adapters/carrier.ts';
import { captureKey, paymentKey, SandboxPaymentProvider } from '../../functions/adapters/payments.ts';

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

  it('answers a repeated authorization with the first one, a repeated capture with the first, a second void as success', async () => {
    const first = await provider.authorize(request('ord-pay-1'));
    expect(await provider.authorize(request('ord-pay-1'))).toEqual(first);
    await provider.void({ authorizationKey: paymentKey('ord-pay-1', 'authorize') });
    await expect(provider.void({ authorizationKey: paymentKey('ord-pay-1', 'authorize') })).resolves.toEqual({
      captures: [],
    });

    await provider.authorize(request('ord-pay-2'));
    const capture = { authorizationKey: paymentKey('ord-pay-2', 'authorize'), captureKey: 'ord-pay-2:capture:A1' };
    const once = await provider.capture({ ...capture, amount: 400 });
    await expect(provider.capture({ ...capture, amount: 400 })).resolves.toEqual(once);
  });

  it('captures per shipment up to what was authorized, voids the rest and keeps the captures', async () => {
    await provider.authorize(request('ord-pay-5')); // 1000
    const authorizationKey = paymentKey('ord-pay-5', 'authorize');
    await provider.capture({ authorizationKey, captureKey: captureKey('ord-pay-5', 's1'), amount: 600 });
    await expect(
      provider.capture({ authorizationKey, captureKey: captureKey('ord-pay-5', 's2'), amount: 401 }),
    ).rejects.toMatchObject({ name: 'PaymentDeclined' });
    const { captures } = await provider.void({ authorizationKey });
    expect(captures).toEqual([
      { captureKey: captureKey('ord-pay-5', 's1'), captureId: expect.any(String), amount: 600 },
    ]);
    await expect(
      provider.capture({ authorizationKey, captureKey: captureKey('ord-pay-5', 's2'), amount: 100 }),
    ).rejects.toMatchObject({ name: 'PaymentDeclined' });
  });

  it('fails tok_error twice per order whichever instance is called, as a remote provider counts (environments share it)', async () => {
    const orderId = `ord-transient-${crypto.randomUUID()}`;
    const request = {
      idempotencyKey: `${orderId}:authorize`,
      orderId,
      token: 'tok_error',
      amount: 100,
      currency: 'EUR',
    };
    await expect(new SandboxPaymentProvider().authorize(request)).rejects.toThrow(/tok_error/);
    await expect(new SandboxPaymentProvider().authorize(request)).rejects.toThrow(/tok_error/);
    await expect(new SandboxPaymentProvider().authorize(request)).resolves.toEqual({
      authorizationId: `auth_${orderId}`,
    });
  });

  it('never voids a payment captured in full', async () => {
    await provider.authorize(request('ord-pay-3'));
    await provider.capture({
      authorizationKey: paymentKey('ord-pay-3', 'authorize'),
      captureKey: captureKey('ord-pay-3', 's1'),
      amount: 1000,
    });
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
