import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import {
  DescribeExecutionCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../local/emulators/dynamodb.ts';
import type { LocalEmulator } from '../../local/emulators/emulator.ts';
import { startS3Local } from '../../local/emulators/s3.ts';
import { startSecretsManagerLocal } from '../../local/emulators/secrets-manager.ts';
import { readSentEmails, startSesLocal } from '../../local/emulators/ses.ts';
import { type EventBridgeService, startEventBridgeService } from '../../local/eventbridge/service.ts';
import { FAULT_SERVICES, FaultInjector, type FaultService, faultRateFromEnv } from '../../local/faults.ts';
import { freePort } from '../../local/ports.ts';
import { type StepFunctionsService, startStepFunctionsService } from '../../local/stepfunctions/service.ts';

const region = 'us-east-1';
const accountId = '123456789012';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const TABLE = 'Things';
const BUCKET = 'documents';
const SECRET = 'webhook-secret';
const BUS = 'orders';

/**
 * The draws the injector makes, in order: the first decides the request's fate (below rate/2:
 * before, below rate: after, else pass), a "before" fault then draws throttling (< 0.5) or 5xx.
 */
const draws: number[] = [];
const RATE = 0.5;
const PASS = 0.9;
const BEFORE = 0.1;
const AFTER = 0.3;
const THROTTLE = 0.2;
const INTERNAL = 0.7;

const injector = new FaultInjector({ rate: RATE, random: () => draws.shift() ?? PASS });
const started: LocalEmulator[] = [];
let eventbridge: EventBridgeService;
let stepfunctions: StepFunctionsService;
const direct = {} as Record<FaultService, string>;
const proxied = {} as Record<FaultService, string>;

beforeAll(async () => {
  const [dynamodb, s3, ses, secrets] = await Promise.all([
    startDynamoDbLocal({ port: await freePort() }),
    startS3Local({ port: await freePort() }),
    startSesLocal({ port: await freePort() }),
    startSecretsManagerLocal({
      region,
      accountId,
      port: await freePort(),
      secrets: [{ name: SECRET, value: 's3cr3t' }],
    }),
  ]);
  started.push(dynamodb, s3, ses, secrets);
  eventbridge = await startEventBridgeService({ region, accountId, buses: [BUS], rules: [], deliver: async () => {} });
  stepfunctions = await startStepFunctionsService({
    region,
    accountId,
    stateMachines: [
      { name: 'noop', definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }) },
    ],
    lambda: { invoke: async () => null },
  });
  Object.assign(direct, {
    dynamodb: dynamodb.endpoint,
    s3: s3.endpoint,
    sesv2: ses.endpoint,
    secretsmanager: secrets.endpoint,
    eventbridge: eventbridge.endpoint,
    sfn: stepfunctions.endpoint,
  });
  for (const service of FAULT_SERVICES) proxied[service] = (await injector.proxy(service, direct[service])).endpoint;

  await new DynamoDBClient({ region, credentials, endpoint: direct.dynamodb }).send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await s3Client(direct.s3).send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  await injector.close();
  await eventbridge?.close();
  await stepfunctions?.close();
  await Promise.all(started.map((emulator) => emulator.stop()));
});

const s3Client = (endpoint: string, maxAttempts = 3) =>
  new S3Client({ region, credentials, endpoint, forcePathStyle: true, maxAttempts });

const stateMachineArn = `arn:aws:states:${region}:${accountId}:stateMachine:noop`;

/** One representative call per service, made by the real SDK client through `endpoint`. */
const calls: Record<
  FaultService,
  (endpoint: string, maxAttempts: number) => Promise<{ $metadata: { attempts?: number } }>
> = {
  dynamodb: (endpoint, maxAttempts) =>
    new DynamoDBClient({ region, credentials, endpoint, maxAttempts }).send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'missing' } } }),
    ),
  sfn: (endpoint, maxAttempts) =>
    new SFNClient({ region, credentials, endpoint, maxAttempts }).send(new ListStateMachinesCommand({})),
  eventbridge: (endpoint, maxAttempts) =>
    new EventBridgeClient({ region, credentials, endpoint, maxAttempts }).send(
      new PutEventsCommand({ Entries: [{ EventBusName: BUS, Source: 'test', DetailType: 'Probe', Detail: '{}' }] }),
    ),
  secretsmanager: (endpoint, maxAttempts) =>
    new SecretsManagerClient({ region, credentials, endpoint, maxAttempts }).send(
      new GetSecretValueCommand({ SecretId: SECRET }),
    ),
  sesv2: (endpoint, maxAttempts) =>
    new SESv2Client({ region, credentials, endpoint, maxAttempts }).send(email('probe')),
  s3: (endpoint, maxAttempts) =>
    s3Client(endpoint, maxAttempts).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'probe.txt', Body: 'probe' })),
};

function email(subject: string) {
  return new SendEmailCommand({
    FromEmailAddress: 'invoices@example.com',
    Destination: { ToAddresses: ['customer@example.com'] },
    Content: { Simple: { Subject: { Data: subject }, Body: { Text: { Data: 'hello' } } } },
  });
}

/** What each service really answers when it throttles or fails internally, as the SDK names it. */
const expected: Record<FaultService, { throttle: [string, number]; internal: [string, number] }> = {
  dynamodb: { throttle: ['ThrottlingException', 400], internal: ['InternalServerError', 500] },
  sfn: { throttle: ['ThrottlingException', 400], internal: ['InternalFailure', 500] },
  eventbridge: { throttle: ['ThrottlingException', 400], internal: ['InternalException', 500] },
  secretsmanager: { throttle: ['ThrottlingException', 400], internal: ['InternalServiceError', 500] },
  sesv2: { throttle: ['TooManyRequestsException', 429], internal: ['InternalFailure', 500] },
  s3: { throttle: ['SlowDown', 503], internal: ['InternalError', 500] },
};

async function failure(promise: Promise<unknown>) {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as (Error & { $metadata?: { httpStatusCode?: number; attempts?: number } }) | undefined;
  if (!error) throw new Error('expected the call to fail');
  return error;
}

describe('fault proxy: errors before the service acts', () => {
  describe.each(FAULT_SERVICES)('%s', (service) => {
    it.each(['throttle', 'internal'] as const)(
      'answers a %s error the SDK names like the real service',
      async (kind) => {
        draws.push(BEFORE, kind === 'throttle' ? THROTTLE : INTERNAL);
        const error = await failure(calls[service](proxied[service], 1));
        const [name, status] = expected[service][kind];
        expect(error.name).toBe(name);
        expect(error.$metadata?.httpStatusCode).toBe(status);
        expect(error.$metadata?.attempts).toBe(1);
      },
    );

    it.each(['throttle', 'internal'] as const)('the SDK retries a %s error by itself', async (kind) => {
      draws.push(BEFORE, kind === 'throttle' ? THROTTLE : INTERNAL, PASS);
      const result = await calls[service](proxied[service], 2);
      expect(result.$metadata.attempts).toBe(2);
      expect(draws).toEqual([]);
    });
  });

  it('never lets the request reach the service', async () => {
    const client = new DynamoDBClient({ region, credentials, endpoint: proxied.dynamodb, maxAttempts: 1 });
    draws.push(BEFORE, INTERNAL);
    await failure(client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'never-written' } } })));
    const stored = await new DynamoDBClient({ region, credentials, endpoint: direct.dynamodb }).send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'never-written' } }, ConsistentRead: true }),
    );
    expect(stored.Item).toBeUndefined();
  });
});

describe('fault proxy: errors after the service acted', () => {
  it('DynamoDB: the item is written although the caller sees a 500', async () => {
    draws.push(AFTER);
    const error = await failure(
      new DynamoDBClient({ region, credentials, endpoint: proxied.dynamodb, maxAttempts: 1 }).send(
        new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'written' } } }),
      ),
    );
    expect(error.name).toBe('InternalServerError');
    const stored = await new DynamoDBClient({ region, credentials, endpoint: direct.dynamodb }).send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'written' } }, ConsistentRead: true }),
    );
    expect(stored.Item?.pk?.S).toBe('written');
  });

  it('DynamoDB: the SDK retry of a conditional write that already happened sees its condition fail', async () => {
    draws.push(AFTER, PASS);
    const error = await failure(
      new DynamoDBClient({ region, credentials, endpoint: proxied.dynamodb, maxAttempts: 2 }).send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: 'once' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    expect(error.name).toBe('ConditionalCheckFailedException');
    expect(error.$metadata?.attempts).toBe(2);
  });

  it('S3: the object is stored although the caller sees InternalError', async () => {
    draws.push(AFTER);
    const error = await failure(
      s3Client(proxied.s3, 1).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after.pdf', Body: 'the pdf' })),
    );
    expect(error.name).toBe('InternalError');
    const object = await s3Client(direct.s3).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'after.pdf' }));
    expect(await object.Body?.transformToString()).toBe('the pdf');
  });

  it('SES v2: the e-mail is sent although the caller sees a 500', async () => {
    const subject = `after-${Date.now()}`;
    draws.push(AFTER);
    const error = await failure(
      new SESv2Client({ region, credentials, endpoint: proxied.sesv2, maxAttempts: 1 }).send(email(subject)),
    );
    expect(error.$metadata?.httpStatusCode).toBe(500);
    const sent = await readSentEmails(direct.sesv2);
    expect(sent.filter((e) => e.subject === subject)).toHaveLength(1);
  });

  it('EventBridge: the event is published although the caller sees InternalException', async () => {
    draws.push(AFTER);
    const error = await failure(
      new EventBridgeClient({ region, credentials, endpoint: proxied.eventbridge, maxAttempts: 1 }).send(
        new PutEventsCommand({
          Entries: [{ EventBusName: BUS, Source: 'test', DetailType: 'AfterFault', Detail: '{}' }],
        }),
      ),
    );
    expect(error.name).toBe('InternalException');
    expect(eventbridge.recentEvents().filter((e) => e['detail-type'] === 'AfterFault')).toHaveLength(1);
  });

  it('Step Functions: the execution starts although the caller sees InternalFailure', async () => {
    draws.push(AFTER);
    const error = await failure(
      new SFNClient({ region, credentials, endpoint: proxied.sfn, maxAttempts: 1 }).send(
        new StartExecutionCommand({ stateMachineArn, name: 'started-after-fault', input: '{}' }),
      ),
    );
    expect(error.name).toBe('InternalFailure');
    const execution = await new SFNClient({ region, credentials, endpoint: direct.sfn }).send(
      new DescribeExecutionCommand({
        executionArn: `arn:aws:states:${region}:${accountId}:execution:noop:started-after-fault`,
      }),
    );
    expect(execution.name).toBe('started-after-fault');
  });
});

describe('fault proxy: rate and counts', () => {
  it('fails that fraction of requests, half before the service sees them and half after', async () => {
    let received = 0;
    const target = createServer((req, res) => {
      received++;
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', () => resolve()));
    // A low-discrepancy sequence: evenly spread draws, so the expected counts are exact to a few.
    let step = 0;
    const even = new FaultInjector({ rate: 0.2, random: () => (++step * 0.6180339887) % 1 });
    try {
      const { endpoint } = await even.proxy('dynamodb', `http://127.0.0.1:${(target.address() as AddressInfo).port}`);
      const statuses: number[] = [];
      for (let i = 0; i < 400; i++) statuses.push((await fetch(endpoint, { method: 'POST', body: '{}' })).status);
      const { requests, before, after } = even.snapshot().byService.dynamodb;
      expect(requests).toBe(400);
      expect(before + after).toBeGreaterThanOrEqual(70);
      expect(before + after).toBeLessThanOrEqual(90);
      expect(Math.abs(before - after)).toBeLessThanOrEqual(10);
      expect(statuses.filter((status) => status !== 200)).toHaveLength(before + after);
      expect(received).toBe(400 - before); // "after" faults reached the service, "before" ones did not
    } finally {
      await even.close();
      await new Promise<void>((resolve) => target.close(() => resolve()));
    }
  });

  it('counted every injected fault above by service and kind', () => {
    const counts = injector.snapshot();
    // 2 before-faults per service from the naming test and 2 from the retry test.
    for (const service of FAULT_SERVICES) expect(counts.byService[service].before).toBeGreaterThanOrEqual(4);
    expect(counts.byService.dynamodb.before).toBe(5);
    expect(counts.byService.dynamodb.after).toBe(2);
    expect(counts.byService.s3.after).toBe(1);
    expect(counts.byService.sesv2.after).toBe(1);
    expect(counts.byService.eventbridge.after).toBe(1);
    expect(counts.byService.sfn.after).toBe(1);
    expect(counts.total.before + counts.total.after).toBeLessThan(counts.total.requests);
  });

  it('passes everything through at rate 0', async () => {
    injector.setRate(0);
    draws.push(BEFORE);
    const result = await calls.dynamodb(proxied.dynamodb, 1);
    expect(result.$metadata.attempts).toBe(1);
    draws.length = 0;
    injector.setRate(RATE);
  });

  it('serves the counts at GET /faults', async () => {
    const base = await injector.serveCounts(0);
    const response = await fetch(`${base}/faults`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as ReturnType<FaultInjector['snapshot']>;
    expect(body.byService.dynamodb).toEqual(injector.snapshot().byService.dynamodb);
  });

  it('reads LOCAL_FAULT_RATE and refuses nonsense', () => {
    expect(faultRateFromEnv(undefined)).toBe(0);
    expect(faultRateFromEnv('')).toBe(0);
    expect(faultRateFromEnv('0.1')).toBe(0.1);
    expect(() => faultRateFromEnv('10%')).toThrow(/LOCAL_FAULT_RATE/);
    expect(() => faultRateFromEnv('2')).toThrow(/between 0 and 1/);
  });
});
