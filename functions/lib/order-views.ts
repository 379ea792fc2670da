import type { OrderSummaryRecord } from '../adapters/orders-repository.ts';
import { principalFor, type Viewer } from '../core/access.ts';
import { timelineOf } from '../core/order.ts';
import { lineQuantities } from '../core/quantities.ts';
import type { Order, OrderSummary } from '../core/schemas.ts';

/** An order as GET /orders/{orderId} shows it to a viewer (machine clients see people by role only). */
export function orderView(order: Order, viewer: Viewer) {
  return {
    orderId: order.orderId,
    status: order.status,
    customerId: order.customerId,
    channel: order.channel,
    ...(order.externalReference ? { externalReference: order.externalReference } : {}),
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
    ...(order.feedbackRequestedAt ? { feedbackRequestedAt: order.feedbackRequestedAt } : {}),
    ...(order.feedback
      ? {
          feedback: {
            score: order.feedback.score,
            group: order.feedback.group,
            ...(order.feedback.comment !== undefined ? { comment: order.feedback.comment } : {}),
            answeredAt: order.feedback.answeredAt,
          },
        }
      : {}),
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
}

/**
 * An order as GET /orders lists it: the same to every viewer, since it names no person (who placed it
 * is on GET /orders/{orderId}, as the viewer may see it).
 */
export function orderSummary(order: OrderSummaryRecord): OrderSummary {
  return {
    orderId: order.orderId,
    status: order.status,
    customerId: order.customerId,
    channel: order.channel,
    ...(order.externalReference !== undefined ? { externalReference: order.externalReference } : {}),
    currency: order.currency,
    total: order.totals?.total ?? null,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
}
