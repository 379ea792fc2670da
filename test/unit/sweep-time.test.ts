import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type ReconcilerDeps, reconciler, reconcilerSettings } from '../../functions/lib/reconciler.ts';

/** The sweep's last step, serving waiting orders, keeps to the run's time as the open-orders pass does. */
describe('reconciler sweep', () => {
  it('serves a long backorder queue only while the run has time left; the next sweep goes on', async () => {
    const settings = { ...reconcilerSettings(), reserveMs: 30_000 };
    let remainingMs = 60_000;
    const context = { getRemainingTimeInMillis: () => remainingMs } as Context;
    const served: string[] = [];
    const queue = ['o-1', 'o-2', 'o-3', 'o-4'];
    const deps = {
      orders: {
        openOrdersCreatedBefore: async function* () {},
        unpublishedFeedbackBefore: async () => [],
      },
      stock: { list: async () => [{ sku: 'S-1', warehouseId: 'WH-BERLIN', onHand: 4, reserved: 0, available: 4 }] },
      // Each order served takes 20 s of the run.
      backorders: {
        serve: async (_sku: string, keepGoing: () => boolean = () => true) => {
          for (const orderId of queue) {
            if (!keepGoing()) break;
            served.push(orderId);
            remainingMs -= 20_000;
          }
          return served.length;
        },
        resumeWith: async () => undefined,
      },
      clock: () => new Date('2026-11-29T12:00:00Z'),
    } as unknown as ReconcilerDeps;
    const result = await reconciler(deps, settings).sweep(context);
    // 60 s left: one order (to 40 s), a second (to 20 s), then below the 30 s reserve.
    expect(served).toEqual(['o-1', 'o-2']);
    expect(result.backordersServed).toBe(2);
  });
});
