import { approvalNeed } from '../core/approval.ts';
import { creditCeiling } from '../core/credit.ts';
import { promisedDeliveryDate } from '../core/order.ts';
import { priceOrder } from '../core/pricing.ts';
import { OrderRef } from '../core/schemas.ts';
import { approvalConfig, numberEnv } from '../lib/config.ts';
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
/** The standard lead time: the delivery promised to the customer is the day placed plus this many days. */
const leadTimeDays = numberEnv('STANDARD_LEAD_TIME_DAYS', 5);

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
  const creditFits =
    !customer ||
    order.payment.method !== 'on_account' ||
    (await credit.holdIfFits(orderId, customer, total, () => creditCeiling(customer, total)));
  const approval = approvalNeed({ total, currency: order.currency, creditFits }, approvals.thresholds);
  const set = {
    lines: priced.lines,
    totals: priced.totals,
    taxTreatment: priced.taxTreatment,
    promisedDeliveryDate: order.promisedDeliveryDate ?? promisedDeliveryDate(order.createdAt, leadTimeDays),
  };
  // Cancelled while being validated: the workflow compensates (the credit hold is given back).
  await recordStage(
    orderId,
    'OrderValidated',
    { status: 'VALIDATED', set, notCancelled: true },
    {
      total,
      promisedDeliveryDate: set.promisedDeliveryDate,
    },
  );
  return {
    total: priced.totals.total,
    currency: order.currency,
    paymentMethod: order.payment.method,
    approval: { ...approval, timeoutSeconds: approvals.timeoutSeconds },
  };
});
