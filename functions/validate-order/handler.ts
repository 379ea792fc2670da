import { approvalNeed } from '../core/approval.ts';
import { creditCeiling } from '../core/credit.ts';
import { CreditLimitExceeded } from '../core/errors.ts';
import { priceOrder } from '../core/pricing.ts';
import { OrderRef } from '../core/schemas.ts';
import { approvalConfig } from '../lib/config.ts';
import {
  catalogRepository,
  clock,
  creditLedger,
  customersRepository,
  eventPublisher,
  ordersRepository,
} from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const customers = customersRepository();
const catalog = catalogRepository();
const credit = creditLedger();
const recordStage = stageRecorder(orders, eventPublisher(), clock);
const approvals = approvalConfig();

/**
 * ValidateOrder: customer, products, server-side prices, tax, totals, and for on-account orders a
 * hold on the customer's credit. An on-account order over the remaining credit (also one that lost
 * the race for the last of it) or above the high-value threshold is not rejected: it waits for an
 * approver (AwaitApproval), and an over-credit order's hold is taken on approval. Throws CustomerBlocked / InvalidOrder / PriceMismatch.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const request = { ...order, lines: order.requestedLines };
  const [customer, products] = await Promise.all([
    customers.find(order.customerId),
    catalog.getMany(order.requestedLines.map((line) => line.sku)),
  ]);
  const priced = priceOrder(request, customer, products);
  const total = priced.totals.total;
  let creditFits = true;
  if (customer && order.payment.method === 'on_account') {
    try {
      await credit.hold(orderId, customer, total, creditCeiling(customer, total));
    } catch (error) {
      if (!(error instanceof CreditLimitExceeded)) throw error;
      creditFits = false;
    }
  }
  const approval = approvalNeed({ total, currency: order.currency, creditFits }, approvals.thresholds);
  await recordStage(
    orderId,
    'OrderValidated',
    {
      status: 'VALIDATED',
      set: { lines: priced.lines, totals: priced.totals, taxTreatment: priced.taxTreatment },
      // Cancelled while being validated: the workflow compensates (the credit hold is given back).
      notCancelled: true,
    },
    {
      total: priced.totals.total,
    },
  );
  return {
    total: priced.totals.total,
    currency: order.currency,
    paymentMethod: order.payment.method,
    approval: { ...approval, timeoutSeconds: approvals.timeoutSeconds },
  };
});
