import { InvalidOrder } from '../core/errors.ts';
import { OrderEntrySubmission } from '../core/schemas.ts';
import { callerOf } from '../lib/caller.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400 } from '../lib/http.ts';
import { idempotencyKeyOf, intakeRefusal, requireActsFor } from '../lib/intake.ts';
import { enterOrder } from '../lib/order-entry.ts';

/**
 * POST /order-entries — a rep's direct entry (`npm run order -- create`) and the bulk import
 * (`npm run order -- import`): an order entry completed from the customer's record, captured by the
 * one intake under the channel it names, idempotent per Idempotency-Key: the caller's, or for an import the customer's.
 */
export const handler = httpRoute(async (event) => {
  const caller = callerOf(event);
  const idempotencyKey = idempotencyKeyOf(event);
  const { channel, ...entry } = parseOr400(OrderEntrySubmission, jsonBody(event), 'order entry');
  requireActsFor(caller, entry.customerId);
  try {
    const { orderId, status } = await enterOrder({
      channel,
      idempotencyKey,
      entry,
      placedBy: caller.principal,
      // A purchase-order reference is the customer's: whoever imports the file again finds the same orders.
      ...(channel === 'import' ? { keyScope: `customer:${entry.customerId}` } : {}),
    });
    return json(202, { orderId, status, links: { self: `/orders/${orderId}` } }, { location: `/orders/${orderId}` });
  } catch (error) {
    if (error instanceof InvalidOrder) {
      throw new HttpError(422, 'InvalidOrder', `The order cannot be accepted: ${error.message}`, error.problems);
    }
    throw intakeRefusal(error, 'Idempotency-Key') ?? error;
  }
});
