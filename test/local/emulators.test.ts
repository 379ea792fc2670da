import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../local/emulators/dynamodb.ts';
import type { LocalEmulator } from '../../local/emulators/emulator.ts';
import { startS3Local } from '../../local/emulators/s3.ts';
import { startSecretsManagerLocal } from '../../local/emulators/secrets-manager.ts';
import { readSentEmails, startSesLocal } from '../../local/emulators/ses.ts';
import { freePort } from '../../local/ports.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const accountId = '123456789012';

const started: LocalEmulator[] = [];
async function track<T extends LocalEmulator>(emulator: Promise<T>): Promise<T> {
  const running = await emulator;
  started.push(running);
  return running;
}

afterAll(async () => {
  await Promise.all(started.map((emulator) => emulator.stop()));
});

describe('DynamoDB Local', () => {
  let dynamo: LocalEmulator;
  let client: DynamoDBClient;
  const table = 'Orders';

  beforeAll(async () => {
    dynamo = await track(startDynamoDbLocal({ port: await freePort() }));
    client = new DynamoDBClient({ region, credentials, endpoint: dynamo.endpoint });
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });

  it('cancels the whole transaction when one condition fails', async () => {
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [{ Put: { TableName: table, Item: { pk: { S: 'existing' } } } }],
      }),
    );
    const attempt = client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: table, Item: { pk: { S: 'new-order' } } } },
          {
            Put: {
              TableName: table,
              Item: { pk: { S: 'existing' } },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );

    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const reasons = (error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code);
    expect(reasons).toEqual(['None', 'ConditionalCheckFailed']);
    const written = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'new-order' } } }));
    expect(written.Item).toBeUndefined();
  });

  it('shares one database across credentials and regions', async () => {
    const other = new DynamoDBClient({
      region: 'eu-west-1',
      // DynamoDB Local only accepts access keys made of letters and digits.
      credentials: { accessKeyId: 'someoneElse', secretAccessKey: 'other' },
      endpoint: dynamo.endpoint,
    });
    const { TableNames } = await other.send(new ListTablesCommand({}));
    expect(TableNames).toContain(table);
  });
});

describe('SES local', () => {
  let ses: LocalEmulator;

  beforeAll(async () => {
    ses = await track(startSesLocal({ port: await freePort() }));
  });

  it('records a raw MIME message with its PDF attachment', async () => {
    const client = new SESv2Client({ region, credentials, endpoint: ses.endpoint });
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
    const mime = [
      'From: orders@example.com',
      'To: customer@example.com',
      'Subject: Your invoice SO-1',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=UTF-8',
      '',
      'Invoice attached.',
      '--b1',
      'Content-Type: application/pdf; name="invoice-SO-1.pdf"',
      'Content-Disposition: attachment; filename="invoice-SO-1.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      pdf.toString('base64'),
      '--b1--',
      '',
    ].join('\r\n');

    const { MessageId } = await client.send(
      new SendEmailCommand({
        FromEmailAddress: 'orders@example.com',
        Destination: { ToAddresses: ['customer@example.com'] },
        Content: { Raw: { Data: Buffer.from(mime) } },
      }),
    );

    const sent = (await readSentEmails(ses.endpoint)).find((email) => email.messageId === MessageId);
    expect(sent?.subject).toBe('Your invoice SO-1');
    expect(sent?.destination.to).toEqual(['customer@example.com']);
    expect(sent?.attachments).toEqual([
      expect.objectContaining({ filename: 'invoice-SO-1.pdf', contentType: 'application/pdf', size: pdf.length }),
    ]);
  });
});

describe('S3 local', () => {
  let s3: LocalEmulator;

  beforeAll(async () => {
    s3 = await track(startS3Local({ port: await freePort() }));
  });

  it('round-trips an object with path-style addressing', async () => {
    const client = new S3Client({ region, credentials, endpoint: s3.endpoint, forcePathStyle: true });
    await client.send(new CreateBucketCommand({ Bucket: 'invoices' }));
    await client.send(
      new PutObjectCommand({ Bucket: 'invoices', Key: 'SO-1.pdf', Body: 'pdf bytes', ContentType: 'application/pdf' }),
    );
    const object = await client.send(new GetObjectCommand({ Bucket: 'invoices', Key: 'SO-1.pdf' }));
    expect(object.ContentType).toBe('application/pdf');
    expect(await object.Body?.transformToString()).toBe('pdf bytes');
  });
});

describe('Secrets Manager local', () => {
  let secrets: LocalEmulator;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    secrets = await track(
      startSecretsManagerLocal({
        region,
        accountId,
        port: await freePort(),
        secrets: [{ name: 'sales/api-key', value: '{"key":"s3cr3t"}' }],
      }),
    );
    client = new SecretsManagerClient({ region, credentials, endpoint: secrets.endpoint });
  });

  it('returns a secret by name and by ARN', async () => {
    const byName = await client.send(new GetSecretValueCommand({ SecretId: 'sales/api-key' }));
    expect(byName.SecretString).toBe('{"key":"s3cr3t"}');
    expect(byName.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:sales\/api-key-[0-9a-f]{6}$/);
    expect(byName.VersionStages).toEqual(['AWSCURRENT']);
    expect(byName.CreatedDate).toBeInstanceOf(Date);

    const byArn = await client.send(new GetSecretValueCommand({ SecretId: byName.ARN }));
    expect(byArn).toMatchObject({
      Name: 'sales/api-key',
      SecretString: '{"key":"s3cr3t"}',
      VersionId: byName.VersionId,
    });
  });

  it('describes and lists secrets', async () => {
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'sales/api-key' }));
    expect(Object.values(described.VersionIdsToStages ?? {})).toEqual([['AWSCURRENT']]);
    const listed = await client.send(new ListSecretsCommand({}));
    expect(listed.SecretList?.map((s) => s.Name)).toEqual(['sales/api-key']);
  });

  it('answers ResourceNotFoundException for an unknown secret', async () => {
    const error = await client.send(new GetSecretValueCommand({ SecretId: 'nope' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('port conflicts', () => {
  it('reports a busy port clearly instead of crashing or hanging', async () => {
    const [first, second] = started;
    if (!first || !second) throw new Error('expected running emulators');
    await expect(startDynamoDbLocal({ port: second.port })).rejects.toThrow(/already in use/);
    await expect(startS3Local({ port: first.port })).rejects.toThrow(/already in use/);
    await expect(startSesLocal({ port: first.port })).rejects.toThrow(/already in use/);
    await expect(startSecretsManagerLocal({ region, accountId, secrets: [], port: first.port })).rejects.toThrow(
      /already in use/,
    );
  });
});
