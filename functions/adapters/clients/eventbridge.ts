import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

/** The EventBridge client, created on first use (see dynamodb.ts). */
let client: EventBridgeClient | undefined;

export function eventBridge(): EventBridgeClient {
  client ??= new EventBridgeClient({});
  return client;
}
