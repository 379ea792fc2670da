import { principalFor, type Viewer } from '../core/access.ts';
import { timelineOf } from '../core/order.ts';
import { lineQuantities } from '../core/quantities.ts';
import type { Order } from '../core/schemas.ts';

/** An order as GET /orders/{orderId} shows it to a viewer (machine clients see people by role only). */
export function orderView(order: Order, viewer: Viewer) {
  return {
    orderId: order.orderId,
    status: order.status,
    channel: order.channel,
    ...(order.externalReference ? { externalReference: order.externalReference } : {}),
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
  };
}
