import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { parseEventDetail } from '../core/event-catalog.ts';
import type { PublishedEvent } from '../core/events.ts';
import { eventBridge } from './clients/eventbridge.ts';

export const EVENT_SOURCE = 'sales.orders';

/**
 * Publishes a domain event to the order bus. The detail is checked against the event catalog
 * (core/event-catalog.ts) first: a detail that does not match (a field missing, wrong or not in the
 * catalog) is a programming error (InvalidEventDetail), never sent; what is sent is the parsed detail.
 */
export class EventPublisher {
  constructor(private readonly busName: string) {}

  async publish(detailType: PublishedEvent, detail: Record<string, unknown>): Promise<void> {
    // What the schema parsed is what goes out: only the fields the catalog names.
    const checked = parseEventDetail(detailType, detail);
    const result = await eventBridge().send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: this.busName, Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(checked) },
        ],
      }),
    );
    if (result.FailedEntryCount) {
      const entry = result.Entries?.[0];
      throw new Error(`EventBridge refused ${detailType}: ${entry?.ErrorCode} ${entry?.ErrorMessage}`);
    }
  }
}
