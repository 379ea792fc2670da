import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * The survey after delivery on the local runtime: the OrderDelivered rule from the template invokes
 * the sender, the e-mail lands in the local SES store, its link is opened and answered over real HTTP,
 * and FeedbackReceived reaches the local bus.
 */
let runtime: LocalRuntime;
let client: TestClient;

beforeAll(async () => {
  runtime = await startTestRuntime({ carrierDeliveryMs: 200 });
  client = new TestClient(runtime);
});

afterAll(async () => {
  await runtime?.stop();
});

const busEvents = async () => {
  const response = await fetch(`${runtime.urls.eventbridge}/events`);
  return (await response.json()) as { 'detail-type': string; source: string; detail: Record<string, unknown> }[];
};

describe('customer satisfaction survey', () => {
  it('e-mails one survey after delivery; its link shows the form and records nothing; the answer is taken once', async () => {
    const orderId = await client.placeOrder(orderBody());
    await client.waitForStatus(orderId, 'COMPLETED');
    const subject = `Order ${orderId}: how did we do?`;
    const mail = await eventually(async () => (await client.sentEmails()).find((e) => e.subject === subject));
    expect(mail.destination?.to ?? mail.to).toEqual(expect.arrayContaining(['jane.doe@example.com']));
    const text = String(mail.body.text);
    const link = new RegExp(`(${runtime.urls.api}/feedback/(\\S+))\\?score=8`).exec(text);
    if (!link) throw new Error(`No survey link in: ${text}`);
    const [, url, token] = link as unknown as [string, string, string];

    // Opening the link (as a mail scanner would) shows the form and records nothing.
    const page = await fetch(`${url}?score=8`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain('value="8" checked');
    expect(html).toContain(orderId);
    const unanswered = await client.order(orderId);
    expect(unanswered.feedback).toBeUndefined();
    expect(unanswered.feedbackRequestedAt).toBeDefined();

    // The page's button: POST JSON to the same path, no bearer token.
    const answer = (body: unknown, path = url) =>
      fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const invalid = await answer({ score: 8, comment: 'x'.repeat(1001) });
    expect(invalid.status).toBe(400);
    const first = await answer({ score: 8, comment: ' Arrived early. ' });
    expect(first.status).toBe(201);
    const recorded = (await first.json()) as Record<string, unknown>;
    expect(recorded).toMatchObject({ orderId, score: 8, group: 'passive' });
    expect((await answer({ score: 8, comment: 'Arrived early.' })).status).toBe(409);
    expect((await answer({ score: 10 })).status).toBe(409);

    // A token with another order in it, or a changed signature, is not ours.
    const other = `ord-${'0'.repeat(26)}`;
    const forged = await answer({ score: 10 }, `${runtime.urls.api}/feedback/${token.replace(orderId, other)}`);
    expect(forged.status).toBe(401);
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect((await fetch(`${runtime.urls.api}/feedback/${flipped}?score=1`)).status).toBe(401);
    expect((await answer({ score: 1 }, `${runtime.urls.api}/feedback/${flipped}`)).status).toBe(401);

    // The order shows the answer; the link now says it was answered.
    const answered = await client.order(orderId);
    expect(answered.feedback).toEqual({
      score: 8,
      group: 'passive',
      comment: 'Arrived early.',
      answeredAt: recorded.answeredAt,
    });
    expect(answered.timeline.map((e: { type: string }) => e.type)).toContain('FeedbackReceived');
    expect((await fetch(`${url}?score=8`)).status).toBe(409);

    // FeedbackReceived reached the bus once, as the contract has it, without the comment.
    await runtime.drainEvents();
    const received = (await busEvents()).filter(
      (e) => e['detail-type'] === 'FeedbackReceived' && e.detail.orderId === orderId,
    );
    expect(received).toEqual([
      expect.objectContaining({
        source: 'sales.orders',
        detail: {
          version: 1,
          eventId: `feedback:${orderId}`,
          orderId,
          customerId: 'CUST-1002',
          occurredAt: recorded.answeredAt,
          placedAt: answered.createdAt,
          score: 8,
          group: 'passive',
        },
      }),
    ]);
    // One survey e-mail, however often OrderDelivered was delivered.
    expect((await client.sentEmails()).filter((e) => e.subject === subject)).toHaveLength(1);
  });
});
