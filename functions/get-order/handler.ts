import { principalFor } from '../core/access.ts';
import { timelineOf } from '../core/order.ts';
import { lineQuantities } from '../core/quantities.ts';
import { OrderId } from '../core/schemas.ts';
import { actsFor, callerOf, isStaff } from '../lib/caller.ts';
import { ordersRepository } from '../lib/deps.ts';
import { HttpError, httpRoute, json, pathParameter } from '../lib/http.ts';

const orders = ordersRepository();

/** GET /orders/{orderId} — status for the checkout page, buyer clients (their own orders) and staff. */
export const handler = httpRoute(async (event) => {
  const orderId = pathParameter(event, 'orderId', OrderId);
  const caller = callerOf(event);
  const found = await orders.find(orderId);
  // Another customer's order looks exactly like one that does not exist: no existence leak.
  const order = found && actsFor(caller, found.customerId) ? found : undefined;
  if (!order) throw new HttpError(404, 'OrderNotFound', `Order ${orderId} does not exist`);
  // A staff username may be a person's name or e-mail address: machine clients see people by role only.
  const viewer = isStaff(caller) ? 'staff' : 'client';
  return json(200, {
    orderId: order.orderId,
    status: order.status,
    customerId: order.customerId,
    ...(order.placedBy ? { placedBy: principalFor(order.placedBy, viewer) } : {}),
    currency: order.currency,
    lines: order.lines ?? order.requestedLines,
    totals: order.totals ?? null,
    ...(order.taxTreatment ? { taxTreatment: order.taxTreatment } : {}),
    payment: order.paymentRecord
      ? { method: order.paymentRecord.method, status: order.paymentRecord.status }
      : { method: order.payment.method },
    shipments: order.shipments.map(
      ({ shipmentId, allocationId, warehouseId, lines, carrier, trackingNumber, status, invoiceNumber }) => ({
        shipmentId,
        allocationId,
        warehouseId,
        lines,
        carrier,
        trackingNumber,
        status,
        ...(invoiceNumber ? { invoiceNumber } : {}),
      }),
    ),
    invoices: (order.invoices ?? []).map(({ number, shipmentId, total }) => ({ number, shipmentId, total })),
    fulfilmentPolicy: order.fulfilmentPolicy ?? 'all_or_nothing',
    allocations: order.allocations ?? [],
    ...(order.backorder
      ? {
          backorder: {
            lines: order.backorder.lines,
            since: order.backorder.since,
            expiresAt: order.backorder.expiresAt,
            ...(order.backorder.cancelledLines ? { cancelledLines: order.backorder.cancelledLines } : {}),
          },
        }
      : {}),
    quantities: lineQuantities(order),
    timeline: timelineOf(order, viewer),
    ...(order.failure ? { failure: order.failure } : {}),
    ...(order.cancellation
      ? { cancellation: { ...order.cancellation, by: principalFor(order.cancellation.by, viewer) } }
      : {}),
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  });
});
