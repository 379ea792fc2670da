import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { Mailer } from '../adapters/mailer.ts';
import { readSecret } from '../adapters/secrets.ts';
import { feedbackRequestEmail } from '../core/emails.ts';
import { InvalidEmailAddress } from '../core/errors.ts';
import { FEEDBACK_TOKEN_TTL_SECONDS, feedbackLink, feedbackToken, NPS_SCORES } from '../core/feedback.ts';
import { lazySchema } from '../core/lazy-schema.ts';
import { OrderId } from '../core/schemas.ts';
import { SELLER } from '../core/seller.ts';
import { requireEnv } from '../lib/config.ts';
import { clock, customersRepository, ordersRepository } from '../lib/deps.ts';
import { logger, logOrder, observedHandler } from '../lib/powertools.ts';

const orders = ordersRepository();
const customers = customersRepository();
const mailer = new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined);
const baseUrl = requireEnv('PUBLIC_API_URL');
const secretId = requireEnv('FEEDBACK_SECRET_ID');

const Delivered = /* @__PURE__ */ lazySchema(() => z.object({ detail: z.object({ orderId: OrderId }) }));

/**
 * OrderDelivered (order bus rule) -> the customer's survey e-mail, once per order: a republished
 * event, a retry or a concurrent delivery finds it sent (or being sent) and sends nothing. A failed
 * send throws, and EventBridge/Lambda retry it.
 */
export const handler = observedHandler(async (event: EventBridgeEvent<'OrderDelivered', unknown>) => {
  const { orderId } = Delivered.parse(event).detail;
  logOrder(orderId);
  const order = await orders.find(orderId);
  if (!order) {
    logger.warn('Survey for an order that does not exist', { orderId });
    return { sent: false };
  }
  if (order.feedbackRequestedAt) return { sent: false };
  const customer = await customers.find(order.customerId);
  if (!customer) {
    logger.warn('Survey for an order without its customer', { orderId });
    return { sent: false };
  }
  const sending = orders.requestFeedbackOnce(orderId, clock, async () => {
    const expiresAt = new Date(clock().getTime() + FEEDBACK_TOKEN_TTL_SECONDS * 1000);
    const token = feedbackToken(await readSecret(secretId), orderId, expiresAt);
    const links = NPS_SCORES.map((score) => feedbackLink(baseUrl, token, score));
    const email = feedbackRequestEmail({
      customerName: customer.name,
      orderId,
      links,
      expiresAt,
      sellerName: SELLER.legalName,
    });
    await mailer.send({ to: [customer.email], ...email });
  });
  // An address SES can never send to is no reason to retry or dead-letter the event: the survey is
  // optional, and the customer's record is what needs fixing.
  const sentAt = await sending.catch((error: unknown) => {
    if (!(error instanceof InvalidEmailAddress)) throw error;
    logger.warn('Survey not sent: the customer has no valid e-mail address', { customerId: order.customerId });
    return undefined;
  });
  return { sent: sentAt !== undefined };
});
