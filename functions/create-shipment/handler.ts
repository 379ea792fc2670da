import { SandboxCarrier } from '../adapters/carrier.ts';
import { readSecret } from '../adapters/secrets.ts';
import { OrderClosed } from '../core/errors.ts';
import { isTerminal } from '../core/order.ts';
import { OrderRef } from '../core/schemas.ts';
import { numberEnv, requireEnv } from '../lib/config.ts';
import { clock, eventPublisher, ordersRepository, stockLedger } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const catalog = stockLedger();
const recordStage = stageRecorder(orders, eventPublisher(), clock);
const secretId = requireEnv('CARRIER_WEBHOOK_SECRET_ID');
const carrier = new SandboxCarrier({
  webhookUrl: process.env.CARRIER_SANDBOX_WEBHOOK_URL || undefined,
  webhookSecret: () => readSecret(secretId),
  deliveryMs: numberEnv('CARRIER_SANDBOX_DELIVERY_MS', 2000),
});

/** CreateShipment: books the carrier, and the held stock leaves the warehouse. One warehouse, one shipment for now. */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  // Stopped and compensated meanwhile (a late retry): book nothing.
  if (isTerminal(order.status)) throw new OrderClosed(orderId, order.status);
  const shipmentId = `${orderId}-1`;
  const existing = order.shipments.find((s) => s.shipmentId === shipmentId);
  const trackingNumber =
    existing?.trackingNumber ??
    (await carrier.createShipment({ shipmentId, address: order.shippingAddress, parcels: 1 })).trackingNumber;
  await orders.putShipment({ orderId, shipmentId, carrier: carrier.name, trackingNumber, status: 'CREATED' });
  // Last: once the stock has left, compensation no longer releases it.
  await catalog.ship(orderId);
  await recordStage(orderId, 'OrderShipped', { status: 'SHIPPED' }, { carrier: carrier.name });
  return { shipmentId, trackingNumber };
});
