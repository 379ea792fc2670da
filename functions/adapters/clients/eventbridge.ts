import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { traced } from '../../lib/powertools.ts';

/** The EventBridge client, traced and created on first use (see dynamodb.ts). */
let client: EventBridgeClient | undefined;

export function eventBridge(): EventBridgeClient {
  client ??= traced(new EventBridgeClient({}));
  return client;
}
