import { OrderRequest } from '../core/schemas.ts';
import { callerOf, hasScope } from '../lib/caller.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400 } from '../lib/http.ts';
import { captureOrder, idempotencyKeyOf, intakeRefusal, requireActsFor } from '../lib/intake.ts';

/** POST /orders — the web checkout's, buyer clients' and reps' entry point. */
export const handler = httpRoute(async (event) => {
  const caller = callerOf(event);
  const idempotencyKey = idempotencyKeyOf(event);
  const request = parseOr400(OrderRequest, jsonBody(event), 'order');
  requireActsFor(caller, request.customerId);
  // Billing on account draws on the customer's credit: only callers trusted with it (reps, the
  // customer's own buyer client), never the anonymous web checkout.
  if (request.payment.method === 'on_account' && !hasScope(caller, 'orders.on-account')) {
    throw new HttpError(403, 'Forbidden', 'This client may not bill orders to a customer account', [
      { path: 'payment.method', message: 'on_account needs the sales/orders.on-account scope' },
    ]);
  }
  try {
    const { orderId, status } = await captureOrder({
      channel: 'web',
      idempotencyKey,
      request,
      placedBy: caller.principal,
    });
    return json(202, { orderId, status, links: { self: `/orders/${orderId}` } }, { location: `/orders/${orderId}` });
  } catch (error) {
    throw intakeRefusal(error, 'Idempotency-Key') ?? error;
  }
});
