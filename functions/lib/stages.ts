import type { EventPublisher } from '../adapters/event-publisher.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import { type OrderEvent, orderEventDetail } from '../core/events.ts';
import type { Order } from '../core/schemas.ts';

/** A stage the recorder records and publishes: one of the order's domain events. */
export type StageName = OrderEvent;

/**
 * Records a stage on the order (once) and publishes it as a domain event. Publishing happens on
 * every call, also when the stage was recorded by an earlier attempt whose publish failed: events
 * are at least once, and their consumers are idempotent. The event carries ids, status and
 * amounts, never personal data.
 */
export function stageRecorder(orders: OrdersRepository, events: EventPublisher, clock: () => Date) {
  return async (
    orderId: string,
    stage: StageName,
    changes: Parameters<OrdersRepository['recordStage']>[3] = {},
    extra: Record<string, unknown> = {},
  ): Promise<Omit<Order, 'shipments'>> => {
    const at = clock();
    const { order } = await orders.recordStage(orderId, stage, at, changes);
    // One fact per shipment for the per-shipment stages: the shipment names the event.
    const discriminator = typeof extra.shipmentId === 'string' ? extra.shipmentId : undefined;
    const first = order.stages?.[stage] ?? at.toISOString();
    await events.publish(stage, { ...orderEventDetail(order, stage, first, discriminator), ...extra });
    return order;
  };
}
