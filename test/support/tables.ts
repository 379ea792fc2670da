import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { OrderData, type TableName } from '../../infra/constructs/data.ts';
import { startDynamoDbLocal } from '../../local/emulators/dynamodb.ts';
import type { LocalEmulator } from '../../local/emulators/emulator.ts';
import { type Resources, tablesOf } from '../../local/template.ts';

export interface LocalTables {
  ddb: LocalEmulator;
  db: DynamoDBDocumentClient;
  /** Each table's local name (as the runtime names it: `DataOrders`, `DataInvoices`, …). */
  names: Record<TableName, string>;
  stop(): Promise<void>;
}

/**
 * DynamoDB Local with the product's tables, created from the OrderData construct itself (keys,
 * indexes), so repository tests run against the tables as deployed. Sets the environment the
 * adapters' shared client reads (endpoint, region, credentials).
 */
export async function startTables(): Promise<LocalTables> {
  const stack = new Stack(new App(), 'Tables');
  const data = new OrderData(stack, 'Data');
  const { tables } = tablesOf(Template.fromStack(stack).toJSON().Resources as Resources);
  const names = Object.fromEntries(
    Object.entries(data.tables).map(([table, construct]) => [table, `Data${construct.node.id}`]),
  ) as Record<TableName, string>;

  const ddb = await startDynamoDbLocal();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  const raw = new DynamoDBClient({
    endpoint: ddb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await Promise.all(tables.map((table) => raw.send(new CreateTableCommand(table))));
  return { ddb, db: DynamoDBDocumentClient.from(raw), names, stop: () => ddb.stop() };
}
