import { SandboxCarrier } from '../adapters/carrier.ts';
import { readSecret } from '../adapters/secrets.ts';
import { OrderCancelled, OrderClosed } from '../core/errors.ts';
import { isTerminal } from '../core/order.ts';
import { AllocationRef } from '../core/schemas.ts';
import { shipmentIdOf } from '../core/shipment.ts';
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

/**
 * CreateShipment (per allocation): books the carrier for the allocation's lines, and that stock
 * leaves its warehouse. The booking is recorded first (BOOKING, deterministic id per allocation) in
 * one transaction with the check that the order is open and no reconciler is closing it: compensation
 * always knows a booking may exist, and a task still running after its execution was stopped books
 * nothing. If the order turns out closed after the carrier booked, the booking is cancelled again.
 */
export const handler = workflowTask(AllocationRef, async ({ orderId, allocationId }) => {
  const order = await orders.get(orderId);
  // Stopped and compensated meanwhile (a late retry): book nothing.
  if (isTerminal(order.status) || order.closing)
    throw new OrderClosed(orderId, order.closing ? 'being closed' : order.status);
  const allocation = order.allocations?.find((a) => a.allocationId === allocationId);
  if (!allocation) throw new Error(`Order ${orderId} has no allocation ${allocationId}`);
  const shipmentId = shipmentIdOf(orderId, allocationId);
  const existing = order.shipments.find((s) => s.shipmentId === shipmentId);
  if (existing?.status === 'CANCELLED') throw new OrderClosed(orderId, 'being closed');
  // Cancelled before this allocation was booked: it is not booked (a booking already recorded counts as shipped).
  if (order.cancellation && !existing) throw new OrderCancelled(orderId);
  let trackingNumber = existing?.status === 'BOOKING' ? undefined : existing?.trackingNumber;
  try {
    if (!trackingNumber) {
      await orders.recordShipmentIntent({
        orderId,
        shipmentId,
        carrier: carrier.name,
        allocationId,
        warehouseId: allocation.warehouseId,
        lines: allocation.lines,
        at: clock().toISOString(),
      });
      ({ trackingNumber } = await carrier.createShipment({ shipmentId, address: order.shippingAddress, parcels: 1 }));
      await orders.confirmShipment(orderId, shipmentId, trackingNumber, clock());
    }
    // Last: once the stock has left, compensation no longer releases it.
    await catalog.ship(orderId, allocationId);
    await recordStage(
      orderId,
      'OrderShipped',
      { status: 'SHIPPED', whileOpen: true, booked: true },
      { carrier: carrier.name, shipmentId, warehouseId: allocation.warehouseId },
    );
  } catch (error) {
    if ((error instanceof OrderClosed || error instanceof OrderCancelled) && trackingNumber) {
      // Booked, but the order is closed or being closed: the parcel must not go (idempotent with compensation).
      const { cancelled } = await carrier.cancel({ shipmentId, trackingNumber });
      if (cancelled) await orders.updateShipment(orderId, shipmentId, { status: 'CANCELLED', taskToken: null });
    }
    throw error;
  }
  return { shipmentId, trackingNumber };
});
