import { DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalCredentials } from '../../local/emulators/emulator.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { ownDatabase } from '../support/database.ts';
import { startTestRuntime } from '../support/runtime.ts';

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
    const [first, second] = await Promise.all([startTestRuntime({ seed: false }), startTestRuntime({ seed: false })]);
    runtimes.push(first, second);
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

    await first.stop();
    runtimes.splice(runtimes.indexOf(first), 1);
    expect(await tablesOf(one)).toEqual([]);
    expect((await tablesOf(two)).sort()).toEqual(names);
  });
});
