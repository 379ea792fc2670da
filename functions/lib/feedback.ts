import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { EventPublisher } from '../adapters/event-publisher.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import { readSecret } from '../adapters/secrets.ts';
import { feedbackReceivedDetail, verifyFeedbackToken } from '../core/feedback.ts';
import type { OrderFeedback } from '../core/schemas.ts';
import { HttpError } from './http.ts';
import { logOrder } from './powertools.ts';

/**
 * The survey routes' authorization: the path's token, signed with the feedback secret. A token that
 * is malformed or not ours answers 401 (InvalidFeedbackToken, the same for both, so nothing tells a
 * guesser which part was wrong); a genuine one past its expiry 410 (FeedbackLinkExpired).
 * Returns the order it is for (and tags the invocation's log lines with it).
 */
export async function feedbackTokenOf(event: APIGatewayProxyEventV2, secretId: string, now: Date): Promise<string> {
  const token = event.pathParameters?.token ?? '';
  const check = verifyFeedbackToken(await readSecret(secretId), token, now);
  if (check.ok) {
    logOrder(check.orderId);
    return check.orderId;
  }
  if (check.reason === 'expired')
    throw new HttpError(
      410,
      'FeedbackLinkExpired',
      `This survey link expired on ${check.expiresAt.toISOString().slice(0, 10)}; thank you all the same`,
    );
  throw new HttpError(401, 'InvalidFeedbackToken', 'This survey link is not valid', [
    { path: 'token', message: 'is not a valid survey link token' },
  ]);
}

/** A genuine token for an order that is no longer stored. */
export const orderGone = (orderId: string) => new HttpError(404, 'OrderNotFound', `Order ${orderId} does not exist`);

/**
 * Publishes a stored answer's FeedbackReceived, then marks it published. Always the stored answer, with
 * its one event id (`feedback:<orderId>`) and time: publishing it again (a retry, the sweep, a concurrent
 * request) is the same event, which the consumers count once. Whoever finds an answer unpublished calls
 * this: the survey routes before they answer, the sweep for answers a failed request left behind.
 */
export function feedbackPublisher(deps: {
  orders: Pick<OrdersRepository, 'markFeedbackPublished'>;
  events: Pick<EventPublisher, 'publish'>;
  clock: () => Date;
}) {
  return async (
    order: { orderId: string; customerId: string; createdAt: string },
    stored: OrderFeedback,
  ): Promise<void> => {
    await deps.events.publish('FeedbackReceived', feedbackReceivedDetail(order, stored));
    await deps.orders.markFeedbackPublished(order.orderId, deps.clock());
  };
}
