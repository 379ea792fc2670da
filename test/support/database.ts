import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import type { LocalCredentials } from '../../local/emulators/emulator.ts';

/**
 * A database of its own in the run's shared DynamoDB Local (test/support/shared-dynamodb.ts): that
 * JVM keeps one database per access key, so a new key is a new, empty database.
 */
export function ownDatabase(): { endpoint: string; credentials: LocalCredentials } {
  const shared = inject('sharedDynamoDb');
  if (!shared)
    throw new Error("The tests' DynamoDB Local is started by test/support/shared-dynamodb.ts (vitest.config.ts)");
  if ('error' in shared) throw new Error(`The tests' DynamoDB Local did not start: ${shared.error}`);
  return {
    endpoint: shared.endpoint,
    credentials: { accessKeyId: `test${randomUUID().replaceAll('-', '').slice(0, 16)}`, secretAccessKey: 'local' },
  };
}

/** Every item of a table (a paged, consistent Scan): for tests that check everything that was written. */
export async function scanAll(db: DynamoDBDocumentClient, tableName: string): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}
