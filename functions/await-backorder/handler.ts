import { z } from 'zod';
import { OrderRef } from '../core/schemas.ts';
import { backorderLedger, backorderServer } from '../lib/deps.ts';
import { workflowTask } from '../lib/task.ts';

const ledger = backorderLedger();
const backorders = backorderServer();

/**
 * AwaitBackorder (.waitForTaskToken): parks the task token on the order's backorder; arriving stock
 * fills it and resumes the workflow. Filled before the token was parked: resume right away. Stock
 * already there (it arrived between reservation and now) is served first.
 */
export const handler = workflowTask(
  OrderRef.extend({ taskToken: z.string().min(1) }),
  async ({ orderId, taskToken }) => {
    const parked = await ledger.parkToken(orderId, taskToken);
    if (!parked) {
      await backorders.resumeWith(orderId, taskToken);
      return { waiting: false };
    }
    await backorders.serveOrder(orderId);
    return { waiting: true };
  },
);
