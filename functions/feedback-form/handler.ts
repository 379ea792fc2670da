import * as z from 'zod/mini';
import { OrderNotFound } from '../core/errors.ts';
import { FeedbackScoreParameter } from '../core/feedback.ts';
import { FEEDBACK_PAGE_HEADERS, feedbackFormPage, feedbackMessagePage } from '../core/feedback-page.ts';
import { lazySchema } from '../core/lazy-schema.ts';
import { requireEnv } from '../lib/config.ts';
import { clock, eventPublisher, ordersRepository } from '../lib/deps.ts';
import { feedbackPublisher, feedbackTokenOf, orderGone } from '../lib/feedback.ts';
import { HttpError, httpRoute, parseOr400 } from '../lib/http.ts';

const orders = ordersRepository();
const publish = feedbackPublisher({ orders, events: eventPublisher(), clock });
const secretId = requireEnv('FEEDBACK_SECRET_ID');

const LinkQuery = /* @__PURE__ */ lazySchema(() => z.object({ score: FeedbackScoreParameter }));
const TITLES: Record<number, string> = {
  400: 'This link is incomplete',
  401: 'This link is not valid',
  404: 'Order not found',
  409: 'Thank you',
  410: 'This survey has closed',
};
const page = (statusCode: number, body: string) => ({ statusCode, headers: FEEDBACK_PAGE_HEADERS, body });

/**
 * GET /feedback/{token}?score=N — the survey page of an e-mailed link, the score preselected. It
 * records nothing (mail scanners open links): the page's button POSTs the answer. A refusal is a
 * page too, with the status POST would answer (409 once the order has an answer). An answer found
 * stored but unpublished (its request failed half-way) has its FeedbackReceived published first.
 */
export const handler = httpRoute(async (event) => {
  try {
    const orderId = await feedbackTokenOf(event, secretId, clock());
    const { score } = parseOr400(LinkQuery, event.queryStringParameters ?? {}, 'link');
    const { customerId, createdAt, feedback } = await orders.feedbackOf(orderId).catch((error: unknown) => {
      throw error instanceof OrderNotFound ? orderGone(orderId) : error;
    });
    if (feedback && feedback.publishedAt === undefined) await publish({ orderId, customerId, createdAt }, feedback);
    if (feedback) throw new HttpError(409, 'FeedbackAlreadyGiven', `We already have your answer for order ${orderId}.`);
    return page(200, feedbackFormPage(orderId, score));
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return page(error.statusCode, feedbackMessagePage(TITLES[error.statusCode] ?? 'Sorry', error.message));
  }
});
