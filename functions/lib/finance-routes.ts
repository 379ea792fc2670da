import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { CreditNoteRefused, CreditNoteRequestReused, PaymentRefused } from '../core/errors.ts';
import type { CreditNoteRequest } from '../core/schemas.ts';
import { HttpError } from './http.ts';

const PAYMENT_STATUS: Record<PaymentRefused['reason'], number> = {
  exceeds_outstanding: 422,
  not_on_account: 409,
  not_open: 409,
  reference_reused: 409,
};

/** A refused payment as 422 (more than outstanding) or 409, naming the field in the way. */
export function paymentConflict(error: unknown): never {
  if (error instanceof PaymentRefused)
    throw new HttpError(PAYMENT_STATUS[error.reason], 'PaymentRefused', error.message, [
      { path: error.reason === 'exceeds_outstanding' ? 'amount' : 'reference', message: error.message },
    ]);
  throw error;
}

/** A refused credit note, or a request id reused with another body, as 422. */
export function creditNoteConflict(body: CreditNoteRequest) {
  return (error: unknown): never => {
    if (error instanceof CreditNoteRequestReused)
      throw new HttpError(
        422,
        'IdempotencyKeyReused',
        'This Idempotency-Key was already used with a different credit note',
        [{ path: 'Idempotency-Key', message: 'was used for a different request body' }],
      );
    if (error instanceof CreditNoteRefused)
      throw new HttpError(422, 'CreditNoteRefused', error.message, [
        { path: body.lines ? 'lines' : '(body)', message: error.message },
      ]);
    throw error;
  };
}

/**
 * The credit note request a call names: its id from the invoice and the required Idempotency-Key
 * (a half-failed call is resumed by repeating it, never issued a second time), and the fingerprint
 * of its body (the same key with another body is refused).
 */
export function creditNoteRequestOf(event: APIGatewayProxyEventV2, invoiceNumber: string, body: CreditNoteRequest) {
  const key = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'idempotency-key')?.[1];
  if (!key?.trim())
    throw new HttpError(400, 'ValidationError', 'The Idempotency-Key header is required', [
      { path: 'Idempotency-Key', message: 'is required (a retry with the same key continues the same credit note)' },
    ]);
  const requestId = createHash('sha256').update(`${invoiceNumber}\n${key}`).digest('hex').slice(0, 32);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ reason: body.reason, lines: body.lines ?? null }))
    .digest('hex');
  return { requestId, fingerprint };
}
