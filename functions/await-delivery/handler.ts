import { AwaitDeliveryInput } from '../core/schemas.ts';
import { ordersRepository, taskTokens } from '../lib/deps.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const workflow = taskTokens();

/**
 * AwaitDelivery (.waitForTaskToken): parks the task token on the shipment for the carrier
 * webhook. If the carrier was faster than us, resume (or fail) right away.
 */
export const handler = workflowTask(AwaitDeliveryInput, async ({ orderId, shipmentId, trackingNumber, taskToken }) => {
  const shipment = await orders.updateShipment(orderId, shipmentId, { taskToken });
  if (shipment.status === 'DELIVERED') await workflow.succeed(taskToken, { trackingNumber, deliveredAt: null });
  if (shipment.status === 'LOST')
    await workflow.fail(taskToken, 'ShipmentLost', `Carrier reported ${trackingNumber} lost`);
  return { waiting: shipment.status !== 'DELIVERED' && shipment.status !== 'LOST' };
});
