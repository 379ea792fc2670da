import { OrderNotFound } from '../core/errors.ts';
import { FeedbackAnswer, feedbackOf, repeatOf } from '../core/feedback.ts';
import { requireEnv } from '../lib/config.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { feedbackPublisher, feedbackTokenOf, orderGone } from '../lib/feedback.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400 } from '../lib/http.ts';

const orders = ordersRepository();
const publish = feedbackPublisher({ orders, events: eventPublisher(), clock });
const secretId = requireEnv('FEEDBACK_SECRET_ID');

/**
 * POST /feedback/{token} `{ score, comment? }` — the customer's answer, once per order (the token
 * is the authorization). Written first (conditional: the first answer stays), then FeedbackReceived
 * is published and marked so. A request that finds the stored answer unpublished (the request that
 * wrote it failed or died half-way) publishes the stored one before answering: 200 when it is the
 * same answer again, 409 for any other second answer, as once it is published.
 */
export const handler = httpRoute(async (event) => {
  const orderId = await feedbackTokenOf(event, secretId, clock());
  const answer = parseOr400(FeedbackAnswer, jsonBody(event), 'answer');
  const fresh = feedbackOf(answer, clock());
  const result = await orders.recordFeedback(orderId, fresh).catch((error: unknown) => {
    throw error instanceof OrderNotFound ? orderGone(orderId) : error;
  });
  const feedback = result.recorded ? fresh : result.stored;
  const repeat = result.recorded ? undefined : repeatOf(result.stored, answer);
  // A failed publish fails the request (500): the answer stays stored unpublished, and the next
  // request for the order (or the sweep, README: Operations runbook) publishes it.
  if (feedback.publishedAt === undefined)
    await publish({ orderId, customerId: result.customerId, createdAt: result.createdAt }, feedback);
  if (repeat === 'conflict')
    throw new HttpError(409, 'FeedbackAlreadyGiven', `Order ${orderId} already has an answer; thank you`);
  const { score, group, answeredAt } = feedback;
  return json(result.recorded ? 201 : 200, { orderId, score, group, answeredAt });
});
