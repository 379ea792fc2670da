import { PaymentAlreadyCaptured, PaymentDeclined, PaymentProviderUnavailable } from '../core/errors.ts';
import { sandboxState } from './sandbox-state.ts';

/**
 * The payment port: what the workflow needs from a card payment provider. Every call carries an
 * idempotency key (order id + operation), as real providers take one: a retried call returns the
 * first call's result instead of acting twice, and void/capture name the authorization by its key,
 * so compensation can void an authorization whose answer was never recorded.
 */
export interface PaymentProvider {
  authorize(request: {
    idempotencyKey: string;
    orderId: string;
    token: string;
    amount: number;
    currency: string;
  }): Promise<{ authorizationId: string }>;
  /**
   * Captures part of the authorization made under `authorizationKey` (one capture per shipment),
   * keyed by `captureKey`: a repeat returns the first capture. The captures never add up to more
   * than was authorized (PaymentDeclined), nor follow a void.
   */
  capture(request: { authorizationKey: string; captureKey: string; amount: number }): Promise<{ captureId: string }>;
  /**
   * Voids what is left of the authorization made under `authorizationKey`; already voided, or never
   * made, counts as success (and a later authorize or capture under that key is refused). Captures
   * stay: they are returned (by capture key), so an unrecorded one can be recorded. An authorization
   * captured in full is not voided: PaymentAlreadyCaptured.
   */
  void(request: { authorizationKey: string }): Promise<{ captures: Capture[] }>;
  /**
   * Refunds part or all of the payment captured under `authorizationKey` (its captures together).
   * Idempotent by `refundKey` (the credit-note request): a retried refund returns the first one's id
   * and moves no more money. Never more than was captured (PaymentDeclined).
   */
  refund(request: { refundKey: string; authorizationKey: string; amount: number }): Promise<{ refundId: string }>;
}

export interface Capture {
  captureKey: string;
  captureId: string;
  amount: number;
}

/** The idempotency key of an order's payment operation. */
export const paymentKey = (orderId: string, operation: 'authorize' | 'capture' | 'void') => `${orderId}:${operation}`;
/** The idempotency key of a shipment's partial capture. */
export const captureKey = (orderId: string, shipmentId: string) => `${orderId}:capture:${shipmentId}`;
/** The shipment a capture key names. */
export const shipmentOfCapture = (key: string) => key.split(':capture:')[1];

type SandboxAuthorization = {
  authorizationId?: string;
  status: 'AUTHORIZED' | 'CAPTURED' | 'VOIDED';
  /** Authorized amount (unknown for an authorization made by another sandbox process). */
  amount?: number;
  captures?: Capture[];
};

/**
 * The sandbox's own books, as a provider keeps them on its side: shared by every function that calls
 * it, as a remote provider's are (sandbox-state.ts: one per Lambda environment in AWS, one for all locally).
 */
const ledger = sandboxState('payments', () => new Map<string, SandboxAuthorization>());

/**
 * Sandbox provider with the usual test tokens: `tok_visa` authorizes, `tok_declined` is declined,
 * `tok_error` fails transiently twice per order and then authorizes (so the workflow's Retry is
 * exercised), `tok_void_error` authorizes but the provider is unreachable for voids (so a failed
 * compensation can be observed), `tok_void_transient` authorizes and its voids fail transiently
 * twice before they go through (so a compensation retried in place can be observed).
 */
export class SandboxPaymentProvider implements PaymentProvider {
  static readonly TRANSIENT_FAILURES = 2;

  async authorize(request: {
    idempotencyKey: string;
    orderId: string;
    token: string;
    amount: number;
    currency: string;
  }) {
    const known = ledger.get(request.idempotencyKey);
    if (known?.status === 'VOIDED') throw new PaymentDeclined('The authorization was voided before it completed');
    if (known?.authorizationId) return { authorizationId: known.authorizationId };
    const authorized = () => {
      const authorizationId = `auth_${request.orderId}`;
      ledger.set(request.idempotencyKey, {
        authorizationId,
        status: 'AUTHORIZED',
        amount: request.amount,
        captures: [],
      });
      if (request.token === 'tok_void_error') voidFailingKeys.add(request.idempotencyKey);
      if (request.token === 'tok_void_transient') voidTransientFailures.set(request.idempotencyKey, 2);
      return { authorizationId };
    };
    switch (request.token) {
      case 'tok_visa':
      case 'tok_void_error':
      case 'tok_void_transient':
        return authorized();
      case 'tok_error': {
        const failed = transientFailures.get(request.orderId) ?? 0;
        if (failed < SandboxPaymentProvider.TRANSIENT_FAILURES) {
          transientFailures.set(request.orderId, failed + 1);
          throw new PaymentProviderUnavailable('Payment provider timed out (sandbox tok_error)');
        }
        transientFailures.delete(request.orderId);
        return authorized();
      }
      case 'tok_declined':
        throw new PaymentDeclined('Card declined by the issuer (sandbox tok_declined)');
      default:
        throw new PaymentDeclined('Unknown card token; the sandbox accepts tok_visa, tok_declined and tok_error');
    }
  }

  async capture(request: { authorizationKey: string; captureKey: string; amount: number }) {
    const known = ledger.get(request.authorizationKey);
    const captures = known?.captures ?? [];
    const repeated = captures.find((c) => c.captureKey === request.captureKey);
    if (repeated) return { captureId: repeated.captureId };
    if (known?.status === 'VOIDED') throw new PaymentDeclined('The authorization was voided; nothing to capture');
    const captured = captures.reduce((sum, c) => sum + c.amount, 0);
    // Unknown amount means authorized by another instance of the sandbox (in AWS its books are per Lambda environment).
    if (known?.amount !== undefined && captured + request.amount > known.amount)
      throw new PaymentDeclined(
        `Capture of ${request.amount} exceeds what is left of the authorization (${known.amount - captured})`,
      );
    const capture = { captureKey: request.captureKey, captureId: `cap_${request.captureKey}`, amount: request.amount };
    ledger.set(request.authorizationKey, { ...known, status: 'CAPTURED', captures: [...captures, capture] });
    return { captureId: capture.captureId };
  }

  async void(request: { authorizationKey: string }) {
    if (voidFailingKeys.has(request.authorizationKey))
      throw new PaymentProviderUnavailable('Payment provider unreachable for voids (sandbox tok_void_error)');
    const transient = voidTransientFailures.get(request.authorizationKey) ?? 0;
    if (transient > 0) {
      voidTransientFailures.set(request.authorizationKey, transient - 1);
      throw new PaymentProviderUnavailable('Payment provider timed out (sandbox tok_void_transient)');
    }
    const known = ledger.get(request.authorizationKey);
    const captures = known?.captures ?? [];
    const captured = captures.reduce((sum, c) => sum + c.amount, 0);
    if (known?.status === 'CAPTURED' && (known.amount === undefined || captured >= known.amount))
      throw new PaymentAlreadyCaptured('The payment was captured in full; it is not voided');
    // What is left is voided; captures stay captured.
    ledger.set(request.authorizationKey, { ...known, status: 'VOIDED', captures });
    return { captures };
  }

  async refund(request: { refundKey: string; authorizationKey: string; amount: number }) {
    const repeated = sandboxRefunds.get(request.refundKey);
    if (repeated) return { refundId: repeated.refundId };
    const known = ledger.get(request.authorizationKey);
    // What the shipments captured stays refundable after the rest of the authorization was voided.
    const captured = (known?.captures ?? []).reduce((sum, c) => sum + c.amount, 0);
    if (known?.status === 'VOIDED' && captured === 0)
      throw new PaymentDeclined('The authorization was voided; nothing was captured to refund');
    const refunded = [...sandboxRefunds.values()]
      .filter((r) => r.authorizationKey === request.authorizationKey)
      .reduce((sum, r) => sum + r.amount, 0);
    // Unknown captures mean authorized by another instance of the sandbox (in AWS its books are per Lambda environment).
    if (known?.captures && refunded + request.amount > captured)
      throw new PaymentDeclined(`Refund of ${request.amount} exceeds what is left to refund (${captured - refunded})`);
    const refundId = `re_${crypto.randomUUID().replaceAll('-', '').slice(0, 20)}`;
    sandboxRefunds.set(request.refundKey, {
      refundId,
      authorizationKey: request.authorizationKey,
      amount: request.amount,
    });
    return { refundId };
  }
}

/** The sandbox's refunds by refund key: what tests read to see a refund happened once. */
export const sandboxRefunds = sandboxState(
  'payments-refunds',
  () => new Map<string, { refundId: string; authorizationKey: string; amount: number }>(),
);

/** Orders whose `tok_error` authorization is still to fail, by order id: the provider's count, whoever calls. */
const transientFailures = sandboxState('payments-transient', () => new Map<string, number>());

/** Keys authorized with `tok_void_error`. */
const voidFailingKeys = sandboxState('payments-void-failing', () => new Set<string>());
/** Keys authorized with `tok_void_transient`: voids still to fail. */
const voidTransientFailures = sandboxState('payments-void-transient', () => new Map<string, number>());
