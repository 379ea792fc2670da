import { captureKey, paymentKey, SandboxPaymentProvider } from '../adapters/payments.ts';
import { AllocationRef } from '../core/schemas.ts';
import { shipmentCharge, shipmentIdOf } from '../core/shipment.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const payments = new SandboxPaymentProvider();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/**
 * CapturePayment (per shipment, at dispatch): card orders capture the shipment's gross amount from
 * the authorization, keyed by the shipment (a repeat captures nothing more); the capture is recorded
 * on the shipment and added to the order's captured total. On-account orders are paid against the
 * invoice: nothing to do.
 */
export const handler = workflowTask(AllocationRef, async ({ orderId, allocationId }) => {
  const order = await orders.get(orderId);
  const record = order.paymentRecord;
  if (!record) throw new Error('The order has no payment to capture');
  const shipmentId = shipmentIdOf(orderId, allocationId);
  if (record.method !== 'card') return { shipmentId, status: record.status };
  const shipment = order.shipments.find((s) => s.shipmentId === shipmentId);
  if (!shipment) throw new Error(`Order ${orderId} has no shipment ${shipmentId}`);
  const amount = shipmentCharge(order, allocationId).totals.total;
  let captureId = shipment.captureId;
  // The capture's time, when this call recorded it (else the stage reads the one kept on the shipment).
  let capturedAt: string | undefined;
  if (!captureId) {
    ({ captureId } = await payments.capture({
      authorizationKey: record.idempotencyKey ?? paymentKey(orderId, 'authorize'),
      captureKey: captureKey(orderId, shipmentId),
      amount,
    }));
    capturedAt = await orders.recordCapture(orderId, shipmentId, captureId, amount, clock());
  }
  await recordStage(
    orderId,
    'OrderPaymentCaptured',
    { status: 'PAYMENT_CAPTURED' },
    { shipmentId, amount },
    capturedAt,
  );
  return { shipmentId, captureId, amount };
});
