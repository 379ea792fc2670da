import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_UNREACHABLE_POSTAL_CODE } from '../../functions/adapters/carrier.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { address, eventually, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * An execution that runs out of the workflow's own TimeoutSeconds (compressed to seconds
 * here) ends TIMED_OUT, as on AWS: no Catch runs, so the status-change rule hands the order to the
 * reconciler, which compensates it and fails it WorkflowInterrupted.
 */
let runtime: LocalRuntime;
let client: TestClient;

beforeAll(async () => {
  runtime = await startTestRuntime({
    autoDeliver: false,
    // Long enough for a first order to reach its booking through cold execution environments on a slow,
    // loaded machine (4 s was not, running beside another file on 2 cores).
    executionTimeoutOverrideMs: 15_000,
    // The unreachable carrier is retried after the execution's time is up.
    retryIntervalOverrides: { CreateShipment: [0, 0, 30_000, 0] },
  });
  client = new TestClient(runtime);
});

afterAll(async () => {
  await runtime?.stop();
});

describe('timed-out orders', () => {
  it('compensates and fails an order whose execution timed out before dispatch, its carrier unreachable', async () => {
    const before = await client.product('GADGET-MINI');
    const orderId = await client.placeOrder(
      orderBody({
        lines: [{ sku: 'GADGET-MINI', quantity: 2, unitPrice: 3900 }],
        shippingAddress: { ...address, postalCode: SANDBOX_UNREACHABLE_POSTAL_CODE },
      }),
    );
    // Authorized, stock reserved, the booking asked for: nothing is charged before dispatch.
    await eventually(async () => ((await client.order(orderId)).shipments[0]?.status === 'BOOKING' ? true : undefined));
    const execution = await client.finished(orderId);
    expect(execution.status).toBe('TIMED_OUT');

    const order = await client.waitForStatus(orderId, 'FAILED');
    expect(order.failure.code).toBe('WorkflowInterrupted');
    expect(order.failure.message).toContain('TIMED_OUT');
    expect(order.payment.status).toBe('VOIDED');
    expect(order.shipments[0].status).toBe('CANCELLED');
    const after = await client.product('GADGET-MINI');
    expect({ available: after.available, reserved: after.reserved }).toEqual({
      available: before.available,
      reserved: before.reserved,
    });
  });
});
