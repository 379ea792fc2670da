import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FEEDBACK_TOKEN_TTL_SECONDS, feedbackToken, verifyFeedbackToken } from '../../functions/core/feedback.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';

/**
 * The survey's three handlers against mocked AWS clients: what each writes, publishes and sends,
 * and what it refuses before touching anything.
 */
const SECRET = 'feedback-secret';
const ORDER_ID = 'ord-01jd0000000000000000000000';
const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);
const bus = mockClient(EventBridgeClient);
const ses = mockClient(SESv2Client);
const secrets = mockClient(SecretsManagerClient);

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  ORDERS_TABLE_NAME: 'Orders',
  CUSTOMERS_TABLE_NAME: 'Customers',
  EVENT_BUS_NAME: 'Bus',
  SENDER_EMAIL: 'shop@example.com',
  PUBLIC_API_URL: 'https://api.example.com/',
  FEEDBACK_SECRET_ID: 'feedback-secret-id',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});

type Http = (
  event: unknown,
  context: Context,
) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;
let recordFeedback: Http;
let feedbackForm: Http;
let requestFeedback: (event: unknown, context: Context) => Promise<{ sent: boolean }>;

beforeAll(async () => {
  recordFeedback = (await import('../../functions/record-feedback/handler.ts')).handler as never;
  feedbackForm = (await import('../../functions/feedback-form/handler.ts')).handler as never;
  requestFeedback = (await import('../../functions/request-feedback/handler.ts')).handler as never;
});

beforeEach(() => {
  documents.reset();
  bus.reset();
  ses.reset();
  secrets.reset();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
});

const validToken = (secret = SECRET, expiresAt = new Date(Date.now() + 86_400_000)) =>
  feedbackToken(secret, ORDER_ID, expiresAt);

const httpEvent = (method: 'GET' | 'POST', token: string, extra: Record<string, unknown> = {}) =>
  checkoutHttpEvent({
    routeKey: `${method} /feedback/{token}`,
    rawPath: `/feedback/${token}`,
    pathParameters: { token },
    requestContext: { http: { method } } as never,
    ...extra,
  });

const post = async (body: unknown, token = validToken()) => {
  const response = await recordFeedback(
    httpEvent('POST', token, { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    lambdaContext,
  );
  return { status: response.statusCode, body: JSON.parse(response.body) };
};

const PLACED_AT = '2026-11-20T09:00:00.000Z';

const alreadyAnswered = (feedback: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: marshall({ orderId: ORDER_ID, sk: 'ORDER', customerId: 'CUST-1002', createdAt: PLACED_AT, feedback }),
  });

const publishedDetails = () =>
  bus.commandCalls(PutEventsCommand).map((call) => {
    const entry = call.args[0].input.Entries?.[0];
    return { detailType: entry?.DetailType, source: entry?.Source, detail: JSON.parse(entry?.Detail ?? '{}') };
  });

describe('POST /feedback/{token}', () => {
  it('records the answer once, with a condition, then publishes FeedbackReceived without the comment and marks it published', async () => {
    documents
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { orderId: ORDER_ID, customerId: 'CUST-1002', createdAt: PLACED_AT } })
      .resolves({});
    const response = await post({ score: 9, comment: '  Quick and friendly  ' });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ orderId: ORDER_ID, score: 9, group: 'promoter' });

    const [write, mark] = documents.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(write?.ConditionExpression).toBe('attribute_exists(orderId) AND attribute_not_exists(feedback)');
    expect(write?.Key).toEqual({ orderId: ORDER_ID, sk: 'ORDER' });
    expect(write?.ExpressionAttributeValues?.[':feedback']).toEqual({
      score: 9,
      group: 'promoter',
      comment: 'Quick and friendly',
      answeredAt: response.body.answeredAt,
    });
    expect(publishedDetails()).toEqual([
      {
        detailType: 'FeedbackReceived',
        source: 'sales.orders',
        detail: {
          version: 1,
          eventId: `feedback:${ORDER_ID}`,
          orderId: ORDER_ID,
          customerId: 'CUST-1002',
          occurredAt: response.body.answeredAt,
          placedAt: PLACED_AT,
          score: 9,
          group: 'promoter',
        },
      },
    ]);
    expect(mark?.UpdateExpression).toBe(
      'SET feedback.publishedAt = :at REMOVE feedbackUnpublished, feedbackAnsweredAt',
    );
    // Written into the index of unpublished answers; the mark takes it out.
    expect(write?.ExpressionAttributeValues?.[':unpublished']).toBe('UNPUBLISHED');
    expect(write?.UpdateExpression).toContain('feedbackUnpublished = :unpublished, feedbackAnsweredAt = :at');
  });

  it('refuses a tampered, foreign or malformed token with 401 and an expired one with 410, touching nothing', async () => {
    const token = validToken();
    const tampered = token.replace(ORDER_ID, 'ord-01jd0000000000000000000001');
    for (const bad of [tampered, validToken('not-our-secret'), 'not-a-token']) {
      const response = await post({ score: 5 }, bad);
      expect(response.status, bad).toBe(401);
      expect(response.body.error.code).toBe('InvalidFeedbackToken');
    }
    const expired = await post({ score: 5 }, validToken(SECRET, new Date(Date.now() - 1000)));
    expect(expired.status).toBe(410);
    expect(expired.body.error.code).toBe('FeedbackLinkExpired');
    expect(documents.calls()).toHaveLength(0);
    expect(bus.calls()).toHaveLength(0);
  });

  it('answers 400 naming the field for a bad score or comment, before writing', async () => {
    const cases: [unknown, string][] = [
      [{ score: 11 }, 'score'],
      [{ score: 'ten' }, 'score'],
      [{}, 'score'],
      [{ score: 3, comment: 'x'.repeat(1001) }, 'comment'],
    ];
    for (const [body, field] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.issues.map((i: { path: string }) => i.path)).toEqual([field]);
    }
    expect((await post('{not json')).status).toBe(400);
    expect(documents.calls()).toHaveLength(0);
  });

  it('answers 409 to a second answer once the first was published, and publishes nothing', async () => {
    const first = { score: 9, group: 'promoter', answeredAt: '2026-12-01T08:00:00.000Z' };
    documents.on(UpdateCommand).rejects(alreadyAnswered({ ...first, publishedAt: '2026-12-01T08:00:01.000Z' }));
    const same = await post({ score: 9 });
    expect(same.status).toBe(409);
    expect(same.body.error.code).toBe('FeedbackAlreadyGiven');
    expect(bus.calls()).toHaveLength(0);
  });

  it('publishes again, with the first time, when the same answer comes back after its publish failed; another score is 409', async () => {
    const first = { score: 4, group: 'detractor', comment: 'Late', answeredAt: '2026-12-01T08:00:00.000Z' };
    documents.on(UpdateCommand).rejectsOnce(alreadyAnswered(first)).resolves({});
    const retry = await post({ score: 4, comment: 'Late ' });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ orderId: ORDER_ID, score: 4, group: 'detractor', answeredAt: first.answeredAt });
    expect(publishedDetails().map((p) => p.detail)).toEqual([
      expect.objectContaining({ eventId: `feedback:${ORDER_ID}`, occurredAt: first.answeredAt, score: 4 }),
    ]);
    expect(documents.commandCalls(UpdateCommand)[1]?.args[0].input.UpdateExpression).toBe(
      'SET feedback.publishedAt = :at REMOVE feedbackUnpublished, feedbackAnsweredAt',
    );

    bus.resetHistory();
    documents.reset();
    documents.on(UpdateCommand).rejects(alreadyAnswered({ ...first, publishedAt: '2026-12-01T08:00:05.000Z' }));
    const other = await post({ score: 10 });
    expect(other.status).toBe(409);
    expect(bus.calls()).toHaveLength(0);
  });

  it('publishes the stored answer when its first request failed to, even for a different second answer (409)', async () => {
    documents.on(UpdateCommand).resolvesOnce({ Attributes: { orderId: ORDER_ID, customerId: 'CUST-1002' } });
    bus.on(PutEventsCommand).rejects(Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable' }));
    expect((await post({ score: 3, comment: 'Box was damaged' })).status).toBe(500);
    const stored = documents.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':feedback'];
    expect(stored).toMatchObject({ score: 3, comment: 'Box was damaged' });

    documents.reset();
    bus.reset();
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e2' }] });
    documents.on(UpdateCommand).rejectsOnce(alreadyAnswered(stored)).resolves({});
    const second = await post({ score: 3, comment: 'Actually it was fine' });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('FeedbackAlreadyGiven');
    // The stored answer went out, under its one event id and its own time, and was marked published.
    expect(publishedDetails()).toEqual([
      {
        detailType: 'FeedbackReceived',
        source: 'sales.orders',
        detail: {
          version: 1,
          eventId: `feedback:${ORDER_ID}`,
          orderId: ORDER_ID,
          customerId: 'CUST-1002',
          occurredAt: stored.answeredAt,
          placedAt: '2026-11-20T09:00:00.000Z',
          score: 3,
          group: 'detractor',
        },
      },
    ]);
    expect(documents.commandCalls(UpdateCommand)[1]?.args[0].input.UpdateExpression).toBe(
      'SET feedback.publishedAt = :at REMOVE feedbackUnpublished, feedbackAnsweredAt',
    );
  });

  it('fails (500) when the publish fails, leaving the answer unmarked so that the same answer again publishes it', async () => {
    documents
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { orderId: ORDER_ID, customerId: 'CUST-1002', createdAt: PLACED_AT } });
    bus.on(PutEventsCommand).rejects(Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable' }));
    const response = await post({ score: 7 });
    expect(response.status).toBe(500);
    // The answer was written; no publishedAt mark followed.
    expect(documents.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('answers 404 for a genuine token whose order is not stored', async () => {
    documents
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    const response = await post({ score: 7 });
    expect(response.status).toBe(404);
    expect(bus.calls()).toHaveLength(0);
  });
});

describe('GET /feedback/{token}', () => {
  const get = async (token: string, score?: string) => {
    const response = await feedbackForm(
      httpEvent('GET', token, score === undefined ? {} : { queryStringParameters: { score } }),
      lambdaContext,
    );
    return { status: response.statusCode, type: response.headers['content-type'], body: response.body };
  };

  it('shows the form with the score preselected and writes nothing', async () => {
    documents.on(GetCommand).resolves({ Item: { orderId: ORDER_ID } });
    const page = await get(validToken(), '7');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('value="7" checked');
    expect(documents.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(bus.calls()).toHaveLength(0);
  });

  it('answers refusals as pages: 400 for a bad score, 401 for a bad token, 409 once answered', async () => {
    const badScore = await get(validToken(), '11');
    expect(badScore.status).toBe(400);
    expect(badScore.body).toContain('score must be a whole number from 0 to 10');
    const badToken = await get('ord-01jd0000000000000000000000.1.xyz');
    expect(badToken.status).toBe(401);
    expect(badToken.type).toBe('text/html; charset=utf-8');
    const published = {
      score: 3,
      group: 'detractor',
      answeredAt: '2026-12-01T08:00:00.000Z',
      publishedAt: '2026-12-01T08:00:01.000Z',
    };
    documents.on(GetCommand).resolves({
      Item: { orderId: ORDER_ID, customerId: 'CUST-1002', createdAt: '2026-11-20T09:00:00.000Z', feedback: published },
    });
    const answered = await get(validToken(), '3');
    expect(answered.status).toBe(409);
    expect(answered.body).not.toContain('<form');
    expect(bus.calls()).toHaveLength(0);
  });

  it('publishes a stored answer its request left unpublished before answering 409', async () => {
    const stored = { score: 6, group: 'detractor', answeredAt: '2026-12-01T08:00:00.000Z' };
    documents.on(GetCommand).resolves({
      Item: { orderId: ORDER_ID, customerId: 'CUST-1002', createdAt: '2026-11-20T09:00:00.000Z', feedback: stored },
    });
    documents.on(UpdateCommand).resolves({});
    const answered = await get(validToken(), '9');
    expect(answered.status).toBe(409);
    expect(publishedDetails().map((p) => p.detail)).toEqual([
      expect.objectContaining({
        eventId: `feedback:${ORDER_ID}`,
        customerId: 'CUST-1002',
        occurredAt: stored.answeredAt,
        score: 6,
        group: 'detractor',
      }),
    ]);
    expect(documents.commandCalls(UpdateCommand).map((call) => call.args[0].input.UpdateExpression)).toEqual([
      'SET feedback.publishedAt = :at REMOVE feedbackUnpublished, feedbackAnsweredAt',
    ]);
  });
});

describe('RequestFeedback (OrderDelivered)', () => {
  const delivered = {
    version: '0',
    id: 'e1',
    'detail-type': 'OrderDelivered',
    source: 'sales.orders',
    account: '1',
    time: '2026-11-28T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { orderId: ORDER_ID, status: 'DELIVERED' },
  };
  const order = (extra: Record<string, unknown> = {}) => ({
    Items: [{ orderId: ORDER_ID, sk: 'ORDER', customerId: 'CUST-1002', status: 'DELIVERED', stages: {}, ...extra }],
  });
  const customer = { Item: { customerId: 'CUST-1002', name: 'Jane Doe', email: 'jane.doe@example.com' } };

  it('e-mails the customer one signed link per score, claimed and marked on the order', async () => {
    documents.on(QueryCommand).resolves(order());
    documents.on(GetCommand).resolves(customer);
    documents.on(UpdateCommand).resolves({});
    ses.on(SendEmailCommand).resolves({ MessageId: 'm1' });
    expect(await requestFeedback(delivered, lambdaContext)).toEqual({ sent: true });

    const [claim, mark] = documents.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(claim?.ExpressionAttributeNames).toMatchObject({ '#marker': 'feedbackRequestedAt' });
    expect(mark?.ExpressionAttributeNames).toMatchObject({ '#marker': 'feedbackRequestedAt' });
    const mail = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(mail?.Destination?.ToAddresses).toEqual(['jane.doe@example.com']);
    const text = String(mail?.Content?.Simple?.Body?.Text?.Data);
    const links = [...text.matchAll(/https:\/\/api\.example\.com\/feedback\/(\S+)\?score=(\d+)/g)];
    expect(links.map((l) => Number(l[2]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const token = links[0]?.[1] as string;
    const check = verifyFeedbackToken(SECRET, token, new Date());
    expect(check).toMatchObject({ ok: true, orderId: ORDER_ID });
    // Valid for the survey's 30 days from now.
    const days = ((check as { expiresAt: Date }).expiresAt.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(FEEDBACK_TOKEN_TTL_SECONDS / 86_400 - 0.01);
    expect(days).toBeLessThanOrEqual(FEEDBACK_TOKEN_TTL_SECONDS / 86_400);
  });

  it('sends nothing for an order whose survey went out (a republished event)', async () => {
    documents.on(QueryCommand).resolves(order({ feedbackRequestedAt: '2026-11-28T10:00:01.000Z' }));
    expect(await requestFeedback(delivered, lambdaContext)).toEqual({ sent: false });
    expect(ses.calls()).toHaveLength(0);
  });

  it('lets go of its claim and fails when SES refuses, so that a retry sends', async () => {
    documents.on(QueryCommand).resolves(order());
    documents.on(GetCommand).resolves(customer);
    documents.on(UpdateCommand).resolves({});
    ses.on(SendEmailCommand).rejects(Object.assign(new Error('rejected'), { name: 'MessageRejected' }));
    await expect(requestFeedback(delivered, lambdaContext)).rejects.toThrow();
    const updates = documents.commandCalls(UpdateCommand).map((call) => call.args[0].input.UpdateExpression);
    expect(updates).toEqual(['SET #claim = :now', 'REMOVE #claim']);
  });

  it('sends nothing and does not fail for a customer whose address SES can never send to (no retry, no dead letter)', async () => {
    documents.on(QueryCommand).resolves(order());
    documents.on(GetCommand).resolves({ Item: { ...customer.Item, email: 'not an address' } });
    documents.on(UpdateCommand).resolves({});
    expect(await requestFeedback(delivered, lambdaContext)).toEqual({ sent: false });
    expect(ses.calls()).toHaveLength(0);
  });
});
