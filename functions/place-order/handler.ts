import { z } from 'zod';
import { IdempotencyKey, OrderRequest } from '../core/schemas.ts';
import { actsFor, callerOf, hasScope } from '../lib/caller.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400 } from '../lib/http.ts';
import { captureOrder, intakeRefusal } from '../lib/intake.ts';

/** POST /orders — the web checkout's, buyer clients' and reps' entry point. */
export const handler = httpRoute(async (event, context) => {
  const caller = callerOf(event);
  const idempotencyKey = parseOr400(
    z.object({ 'idempotency-key': IdempotencyKey }),
    { 'idempotency-key': event.headers?.['idempotency-key'] },
    'Idempotency-Key header',
  )['idempotency-key'];
  const request = parseOr400(OrderRequest, jsonBody(event), 'order');
  if (!actsFor(caller, request.customerId)) {
    throw new HttpError(403, 'Forbidden', 'This client may place orders for its own customer only', [
      { path: 'customerId', message: 'is not the customer this client acts for' },
    ]);
  }
  // Billing on account draws on the customer's credit: only callers trusted with it (reps, the
  // customer's own buyer client), never the anonymous web checkout.
  if (request.payment.method === 'on_account' && !hasScope(caller, 'orders.on-account')) {
    throw new HttpError(403, 'Forbidden', 'This client may not bill orders to a customer account', [
      { path: 'payment.method', message: 'on_account needs the sales/orders.on-account scope' },
    ]);
  }
  try {
    const { orderId, status } = await captureOrder(
      { channel: 'web', idempotencyKey, request, placedBy: caller.principal },
      context,
    );
    return json(202, { orderId, status, links: { self: `/orders/${orderId}` } }, { location: `/orders/${orderId}` });
  } catch (error) {
    throw intakeRefusal(error, 'Idempotency-Key') ?? error;
  }
});
