import { IdempotencyAlreadyInProgressError, IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import { z } from 'zod';
import { OrderRequest } from '../core/schemas.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400 } from '../lib/http.ts';
import { captureOrder } from '../lib/intake.ts';

const IdempotencyKey = z
  .string({ error: 'is required: send a unique key per order, e.g. a UUID' })
  .regex(/^[A-Za-z0-9_.:-]{8,128}$/, 'must be 8-128 letters, digits or _ . : -');

/** POST /orders — the web checkout's entry point. */
export const handler = httpRoute(async (event, context) => {
  const idempotencyKey = parseOr400(
    z.object({ 'idempotency-key': IdempotencyKey }),
    { 'idempotency-key': event.headers?.['idempotency-key'] },
    'Idempotency-Key header',
  )['idempotency-key'];
  const request = parseOr400(OrderRequest, jsonBody(event), 'order');
  try {
    const { orderId, status } = await captureOrder({ channel: 'api', idempotencyKey, request }, context);
    return json(202, { orderId, status, links: { self: `/orders/${orderId}` } }, { location: `/orders/${orderId}` });
  } catch (error) {
    if (error instanceof IdempotencyValidationError) {
      throw new HttpError(422, 'IdempotencyKeyReused', 'This Idempotency-Key was already used with a different order', [
        { path: 'Idempotency-Key', message: 'was used for a different request body' },
      ]);
    }
    if (error instanceof IdempotencyAlreadyInProgressError) {
      throw new HttpError(
        409,
        'RequestInProgress',
        'An order with this Idempotency-Key is still being captured; retry shortly',
      );
    }
    throw error;
  }
});
