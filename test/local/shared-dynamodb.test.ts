import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalCredentials } from '../../local/emulators/emulator.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { ownDatabase } from '../support/database.ts';
import { startTestRuntime } from '../support/runtime.ts';
import { startTables } from '../support/tables.ts';

/**
 * The test files' runtimes share one DynamoDB Local (test/support/shared-dynamodb.ts), started without
 * `-sharedDb`: each runtime must see its own tables only, and leave nothing behind when it stops.
 */
const clients: DynamoDBClient[] = [];
const clientOf = (endpoint: string, credentials: LocalCredentials) => {
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials });
  clients.push(client);
  return client;
};
const tablesOf = async (client: DynamoDBClient) => (await client.send(new ListTablesCommand({}))).TableNames ?? [];
const runtimes: LocalRuntime[] = [];

afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.stop()));
  for (const client of clients) client.destroy();
});

describe('runtimes sharing one DynamoDB Local', () => {
  it('each keeps its tables in a database of its own, and deletes them when it stops', async () => {
    const started = await Promise.allSettled([startTestRuntime({ seed: false }), startTestRuntime({ seed: false })]);
    for (const s of started) if (s.status === 'fulfilled') runtimes.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [first, second] = runtimes as [LocalRuntime, LocalRuntime];
    expect(first.urls.dynamodb).toBe(second.urls.dynamodb);
    expect(first.credentials.accessKeyId).not.toBe(second.credentials.accessKeyId);

    const one = clientOf(first.urls.dynamodb, first.credentials);
    const two = clientOf(second.urls.dynamodb, second.credentials);
    const names = first.deployment.tables.map((table) => table.TableName).sort();
    expect(names.length).toBeGreaterThan(0);
    expect((await tablesOf(one)).sort()).toEqual(names);
    expect((await tablesOf(two)).sort()).toEqual(names);
    // A stranger's key is an empty database.
    expect(await tablesOf(clientOf(first.urls.dynamodb, ownDatabase().credentials))).toEqual([]);

    const TableName = first.functionEnvironment().PRODUCTS_TABLE_NAME as string;
    const Key = { sku: { S: 'ONLY-IN-FIRST' } };
    await one.send(new PutItemCommand({ TableName, Item: { ...Key, name: { S: 'first' } } }));
    expect((await one.send(new GetItemCommand({ TableName, Key }))).Item?.name?.S).toBe('first');
    expect((await two.send(new GetItemCommand({ TableName, Key }))).Item).toBeUndefined();

    // A table the runtime did not create stays: it deletes its deployment's tables, not what the key holds.
    await one.send(
      new CreateTableCommand({
        TableName: 'NotTheRuntimes',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await first.stop();
    runtimes.splice(runtimes.indexOf(first), 1);
    expect(await tablesOf(one)).toEqual(['NotTheRuntimes']);
    await one.send(new DeleteTableCommand({ TableName: 'NotTheRuntimes' }));
    expect((await tablesOf(two)).sort()).toEqual(names);
  });

  it("a file's tables: reached by the adapters' default credentials, even with a profile named; deleted by stop", async () => {
    process.env.AWS_PROFILE = 'someone-elses-profile';
    const tables = await startTables();
    const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID as string, secretAccessKey: 'local' };
    try {
      // As the adapters build their client: region, endpoint and key from the environment.
      const adapters = new DynamoDBClient({});
      clients.push(adapters);
      expect((await tablesOf(adapters)).sort()).toEqual(Object.values(tables.names).sort());
    } finally {
      await tables.stop();
    }
    expect(await tablesOf(clientOf(tables.endpoint, credentials))).toEqual([]);
  });
});
