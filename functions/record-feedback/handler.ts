import { OrderNotFound } from '../core/errors.ts';
import { FeedbackAnswer, feedbackOf, feedbackReceivedDetail, repeatOf } from '../core/feedback.ts';
import { requireEnv } from '../lib/config.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { feedbackTokenOf, orderGone } from '../lib/feedback.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400 } from '../lib/http.ts';

const orders = ordersRepository();
const events = eventPublisher();
const secretId = requireEnv('FEEDBACK_SECRET_ID');

/**
 * POST /feedback/{token} `{ score, comment? }` — the customer's answer, once per order (the token
 * is the authorization). Written first (conditional: the first answer stays), then FeedbackReceived
 * is published and marked so. The same answer again before that mark (its publish failed) publishes
 * again and answers 200; any other second answer is 409.
 */
export const handler = httpRoute(async (event) => {
  const orderId = await feedbackTokenOf(event, secretId, clock());
  const answer = parseOr400(FeedbackAnswer, jsonBody(event), 'answer');
  const fresh = feedbackOf(answer, clock());
  const result = await orders.recordFeedback(orderId, fresh).catch((error: unknown) => {
    throw error instanceof OrderNotFound ? orderGone(orderId) : error;
  });
  if (!result.recorded && repeatOf(result.stored, answer) === 'conflict')
    throw new HttpError(409, 'FeedbackAlreadyGiven', `Order ${orderId} already has an answer; thank you`);
  const feedback = result.recorded ? fresh : result.stored;
  // A failed publish fails the request (500): the answer stays stored unpublished, and the same answer again publishes it.
  await events.publish(
    'FeedbackReceived',
    feedbackReceivedDetail({ orderId, customerId: result.customerId, createdAt: result.createdAt }, feedback),
  );
  await orders.markFeedbackPublished(orderId, clock());
  const { score, group, answeredAt } = feedback;
  return json(result.recorded ? 201 : 200, { orderId, score, group, answeredAt });
});
