import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { OrderEvent } from '../core/events.ts';
import { eventBridge } from './clients.ts';

export const EVENT_SOURCE = 'sales.orders';

/** Publishes a domain event (one of ORDER_EVENTS, core/events.ts) to the order bus. */
export class EventPublisher {
  constructor(private readonly busName: string) {}

  async publish(detailType: OrderEvent, detail: Record<string, unknown>): Promise<void> {
    const result = await eventBridge().send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: this.busName, Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) },
        ],
      }),
    );
    if (result.FailedEntryCount) {
      const entry = result.Entries?.[0];
      throw new Error(`EventBridge refused ${detailType}: ${entry?.ErrorCode} ${entry?.ErrorMessage}`);
    }
  }
}
