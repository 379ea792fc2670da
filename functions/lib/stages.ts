import type { EventPublisher } from '../adapters/event-publisher.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import { type OrderEvent, orderEventDetail } from '../core/events.ts';
import type { Order } from '../core/schemas.ts';
import { SHIPMENT_FACT_TIME } from '../core/shipment.ts';

/** A stage the recorder records and publishes: one of the order's domain events. */
export type StageName = OrderEvent;

type StoredOrder = Omit<Order, 'shipments'>;

/**
 * What an event adds to the order envelope: fixed fields, or fields of the order as stored after the
 * stage and of the fact's time (e.g. a duration up to it), so that a republish computes the same.
 */
export type StageExtra =
  | Record<string, unknown>
  | ((order: StoredOrder, occurredAt: string) => Record<string, unknown>);

/**
 * Records a stage on the order (once) and publishes it as a domain event. Publishing happens on
 * every call, also when the stage was recorded by an earlier attempt whose publish failed: events
 * are at least once, and their consumers are idempotent. Every copy of a fact's event is the same:
 * its time is the stage's first time, or for a per-shipment fact (`shipmentId` in the extras) that
 * shipment's own, kept on the shipment; its status is the one the stage sets (else the order's); its
 * extras come from what is stored. The event carries ids, status and amounts, never personal data.
 * `shipmentFactAt`: that shipment's time as the caller's own write to the shipment kept it (no write here).
 */
export function stageRecorder(orders: OrdersRepository, events: EventPublisher, clock: () => Date) {
  return async (
    orderId: string,
    stage: StageName,
    changes: Parameters<OrdersRepository['recordStage']>[3] = {},
    extra: StageExtra = {},
    shipmentFactAt?: string,
  ): Promise<StoredOrder> => {
    const at = clock();
    // One fact per shipment for the per-shipment stages: the shipment names the event and keeps its time.
    const shipmentId = typeof extra === 'object' && typeof extra.shipmentId === 'string' ? extra.shipmentId : undefined;
    const field = SHIPMENT_FACT_TIME[stage as keyof typeof SHIPMENT_FACT_TIME];
    const shipmentAt =
      shipmentId && field
        ? (shipmentFactAt ?? (await orders.shipmentFactTime(orderId, shipmentId, field, at)))
        : undefined;
    const { order } = await orders.recordStage(orderId, stage, at, changes);
    const occurredAt = shipmentAt ?? order.stages?.[stage] ?? at.toISOString();
    const own = typeof extra === 'function' ? extra(order, occurredAt) : extra;
    const envelope = orderEventDetail(
      { ...order, status: changes.status ?? order.status },
      stage,
      occurredAt,
      shipmentId,
    );
    await events.publish(stage, { ...envelope, ...own });
    return order;
  };
}
