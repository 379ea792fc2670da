import { SandboxCarrier } from '../adapters/carrier.ts';
import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { OrderRef } from '../core/schemas.ts';
import { compensations } from '../lib/compensation.ts';
import { clock, creditLedger, eventPublisher, ordersRepository, stockLedger } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const compensate = compensations({
  orders,
  payments: new SandboxPaymentProvider(),
  carrier: new SandboxCarrier({ deliveryMs: 0 }),
  stock: stockLedger(),
  credit: creditLedger(),
  recordStage: stageRecorder(orders, eventPublisher(), clock),
});

/**
 * ReleaseStock (compensation): cancels a booked shipment whose parcel has not left, then returns
 * held stock (and the stock of the cancelled shipment). Stock that left with the carrier stays
 * shipped. A retry announces OrderStockReleased again.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const shipment = await compensate.cancelShipments(orderId);
  const released = await compensate.releaseStock(orderId);
  return { released, shipment };
});
