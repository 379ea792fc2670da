import { readSecret } from '../adapters/secrets.ts';
import { OrderClosed, ShipmentNotFound } from '../core/errors.ts';
import { CarrierWebhook } from '../core/schemas.ts';
import { verifySignature } from '../core/signature.ts';
import { requireEnv } from '../lib/config.ts';
import { clock, eventPublisher, ordersRepository, taskTokens } from '../lib/deps.ts';
import { HttpError, httpRoute, json, parseOr400, rawBody } from '../lib/http.ts';
import { logger, logOrder } from '../lib/powertools.ts';
import { stageRecorder } from '../lib/stages.ts';

const secretId = requireEnv('CARRIER_WEBHOOK_SECRET_ID');
const orders = ordersRepository();
const workflow = taskTokens();
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/**
 * When the order was delivered: the latest delivery time of its shipments once every one is delivered,
 * else undefined. `reported` stands in for a shipment delivered before the times were kept.
 */
async function deliveredAtOf(orderId: string, reported: string): Promise<string | undefined> {
  const order = await orders.get(orderId);
  // Cancelled shipments (and the allocations a cancellation released) are not waited for.
  const live = order.shipments.filter((s) => s.status !== 'CANCELLED');
  const shipped = new Set(live.map((s) => s.allocationId));
  // Before a cancellation an allocation without its shipment is still to ship; after one it was released.
  const toShip = order.cancellation ? [] : (order.allocations ?? []).filter((a) => !shipped.has(a.allocationId));
  if (live.length === 0 || toShip.length > 0 || !live.every((s) => s.status === 'DELIVERED')) return undefined;
  const times = live.map((s) => Date.parse(s.deliveredAt ?? reported));
  return new Date(Math.max(...times)).toISOString();
}

/** The workflow stopped waiting (delivered twice, timed out, or stopped): nothing left to resume. */
const isClosedTask = (error: unknown) =>
  error instanceof Error && ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'].includes(error.name);

/**
 * POST /webhooks/carrier — signed status events from the carrier. IN_TRANSIT is a heartbeat for
 * the waiting workflow, DELIVERED resumes it, LOST fails it.
 */
export const handler = httpRoute(async (event) => {
  const body = rawBody(event);
  const check = verifySignature({
    secret: await readSecret(secretId),
    timestamp: event.headers?.['x-timestamp'],
    signature: event.headers?.['x-signature'],
    rawBody: body,
    nowSeconds: Math.floor(clock().getTime() / 1000),
  });
  if (!check.ok) throw new HttpError(401, 'InvalidSignature', check.reason);

  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'InvalidJson', 'The request body is not valid JSON', [
      { path: '(body)', message: 'is not valid JSON' },
    ]);
  }
  const update = parseOr400(CarrierWebhook, payload, 'carrier event');
  const notFound = () =>
    new HttpError(404, 'ShipmentNotFound', `No shipment with tracking number ${update.trackingNumber}`);
  const shipment = await orders.shipmentByTracking(update.trackingNumber);
  if (!shipment) throw notFound();
  logOrder(shipment.orderId);

  // A final status is kept; every step below is safe to repeat, so a carrier retry after a
  // partial failure completes what the first call started. The write answers the shipment as stored.
  const stored = await orders
    .updateShipment(shipment.orderId, shipment.shipmentId, {
      status: update.status,
      ...(update.status === 'DELIVERED' ? { deliveredAt: new Date(Date.parse(update.occurredAt)).toISOString() } : {}),
    })
    .catch((error: unknown) => {
      throw error instanceof ShipmentNotFound ? notFound() : error;
    });
  // The order is delivered when every one of its shipments is (one per allocation), at the last one's
  // time; written once with the stage, and every copy of OrderDelivered carries the stored time.
  const deliveredAt =
    stored.status === 'DELIVERED' ? await deliveredAtOf(shipment.orderId, update.occurredAt) : undefined;
  if (deliveredAt) {
    try {
      await recordStage(
        shipment.orderId,
        'OrderDelivered',
        { status: 'DELIVERED', keep: { deliveredAt } },
        (order) => ({ deliveredAt: order.deliveredAt ?? deliveredAt }),
      );
    } catch (error) {
      if (!(error instanceof OrderClosed)) throw error;
      logger.warn('Delivery reported for a closed order', { orderId: shipment.orderId });
      return json(200, { trackingNumber: update.trackingNumber, status: stored.status, note: error.message });
    }
  }
  // No token yet: AwaitDelivery sees the final status when it registers and resumes by itself.
  if (stored.taskToken) {
    try {
      if (stored.status === 'DELIVERED') await workflow.succeed(stored.taskToken, { deliveredAt: update.occurredAt });
      else if (stored.status === 'LOST') {
        await workflow.fail(stored.taskToken, 'ShipmentLost', `Carrier reported ${update.trackingNumber} lost`);
      } else await workflow.heartbeat(stored.taskToken);
    } catch (error) {
      if (!isClosedTask(error)) throw error;
      logger.warn('Carrier event for a workflow that no longer waits', {
        orderId: shipment.orderId,
        status: update.status,
      });
    }
  }
  return json(202, { trackingNumber: update.trackingNumber, status: stored.status });
});
