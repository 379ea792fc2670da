import { creditCeiling } from '../core/credit.ts';
import { priceOrder } from '../core/pricing.ts';
import { OrderRef } from '../core/schemas.ts';
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

/**
 * ValidateOrder: customer, products, server-side prices, tax, totals, and for on-account orders a
 * hold on the customer's credit. Throws CustomerBlocked / InvalidOrder / PriceMismatch / CreditLimitExceeded.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const request = { ...order, lines: order.requestedLines };
  const [customer, products] = await Promise.all([
    customers.find(order.customerId),
    catalog.getMany(order.requestedLines.map((line) => line.sku)),
  ]);
  const priced = priceOrder(request, customer, products);
  if (customer && order.payment.method === 'on_account') {
    const total = priced.totals.total;
    await credit.hold(orderId, customer, total, creditCeiling(customer, total));
  }
  await recordStage(
    orderId,
    'OrderValidated',
    {
      status: 'VALIDATED',
      set: { lines: priced.lines, totals: priced.totals, taxTreatment: priced.taxTreatment },
    },
    {
      total: priced.totals.total,
    },
  );
  return { total: priced.totals.total, currency: order.currency, paymentMethod: order.payment.method };
});
