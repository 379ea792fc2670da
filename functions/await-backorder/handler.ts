import * as z from 'zod/mini';
import { BackorderExpired, OrderCancelled } from '../core/errors.ts';
import { lazySchema } from '../core/lazy-schema.ts';
import { OrderRef } from '../core/schemas.ts';
import { whileTimeLeft } from '../lib/backorders.ts';
import { backorderLedger, backorderServer, clock, ordersRepository } from '../lib/deps.ts';
import { workflowTask } from '../lib/task.ts';

const ledger = backorderLedger();
const backorders = backorderServer();
const orders = ordersRepository();

/**
 * AwaitBackorder (.waitForTaskToken): parks the task token on the order's backorder; arriving stock
 * fills it and resumes the workflow. Filled before the token was parked: resume right away. Stock
 * already there (it arrived between reservation and now) is served to the orders waiting for it,
 * oldest first: this one only when its turn comes, as arriving stock serves them.
 */
export const handler = workflowTask(
  lazySchema(() => z.extend(OrderRef, { taskToken: z.string().check(z.minLength(1)) })),
  async ({ orderId, taskToken }, context) => {
    // Waited past its expiry already (shipping what was there took longer): the rest is cancelled now.
    const current = await orders.get(orderId);
    const expiresAt = current.backorder?.expiresAt;
    if (!current.cancellation && expiresAt && Date.parse(expiresAt) <= clock().getTime())
      throw new BackorderExpired(`The backorder of ${orderId} expired at ${expiresAt}`);
    const parked = await ledger.parkToken(orderId, taskToken);
    // Cancelled before the token was parked: the workflow compensates at once.
    if (!parked && (await orders.get(orderId)).cancellation) throw new OrderCancelled(orderId);
    if (!parked) {
      await backorders.resumeWith(orderId, taskToken);
      return { waiting: false };
    }
    await backorders.serveQueuesOf(orderId, whileTimeLeft(context));
    return { waiting: true };
  },
);
