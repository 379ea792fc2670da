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
  /** Captures the authorization made under `authorizationKey`; already captured counts as success. */
  capture(request: { authorizationKey: string; amount: number }): Promise<void>;
  /**
   * Voids the authorization made under `authorizationKey`; already voided, or never made, counts as
   * success (and a later authorize under that key is refused). A captured payment is never voided:
   * PaymentAlreadyCaptured.
   */
  void(request: { authorizationKey: string }): Promise<void>;
  /**
   * Refunds part or all of the payment captured under `authorizationKey`. Idempotent by `refundKey`
   * (the credit-note request): a retried refund returns the first one's id and moves no more money.
   */
  refund(request: { refundKey: string; authorizationKey: string; amount: number }): Promise<{ refundId: string }>;
}

/** The idempotency key of an order's payment operation. */
export const paymentKey = (orderId: string, operation: 'authorize' | 'capture' | 'void') => `${orderId}:${operation}`;

type SandboxAuthorization = { authorizationId?: string; status: 'AUTHORIZED' | 'CAPTURED' | 'VOIDED' };

/**
 * The sandbox's own books, as a provider keeps them on its side: one per process (shared by every
 * function running in it, like a remote provider would be).
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
  private readonly failures = new Map<string, number>();
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
      ledger.set(request.idempotencyKey, { authorizationId, status: 'AUTHORIZED' });
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
        const failed = this.failures.get(request.orderId) ?? 0;
        if (failed < SandboxPaymentProvider.TRANSIENT_FAILURES) {
          this.failures.set(request.orderId, failed + 1);
          throw new PaymentProviderUnavailable('Payment provider timed out (sandbox tok_error)');
        }
        this.failures.delete(request.orderId);
        return authorized();
      }
      case 'tok_declined':
        throw new PaymentDeclined('Card declined by the issuer (sandbox tok_declined)');
      default:
        throw new PaymentDeclined('Unknown card token; the sandbox accepts tok_visa, tok_declined and tok_error');
    }
  }

  async capture(request: { authorizationKey: string; amount: number }): Promise<void> {
    const known = ledger.get(request.authorizationKey);
    if (known?.status === 'VOIDED') throw new PaymentDeclined('The authorization was voided; nothing to capture');
    // Unknown here means authorized by another instance of the sandbox (its books are per process).
    ledger.set(request.authorizationKey, { ...known, status: 'CAPTURED' });
  }

  async void(request: { authorizationKey: string }): Promise<void> {
    if (voidFailingKeys.has(request.authorizationKey))
      throw new PaymentProviderUnavailable('Payment provider unreachable for voids (sandbox tok_void_error)');
    const transient = voidTransientFailures.get(request.authorizationKey) ?? 0;
    if (transient > 0) {
      voidTransientFailures.set(request.authorizationKey, transient - 1);
      throw new PaymentProviderUnavailable('Payment provider timed out (sandbox tok_void_transient)');
    }
    const known = ledger.get(request.authorizationKey);
    if (known?.status === 'CAPTURED') throw new PaymentAlreadyCaptured('The payment was captured; it is not voided');
    ledger.set(request.authorizationKey, { ...known, status: 'VOIDED' });
  }

  async refund(request: { refundKey: string; authorizationKey: string; amount: number }) {
    const known = sandboxRefunds.get(request.refundKey);
    if (known) return { refundId: known.refundId };
    if (ledger.get(request.authorizationKey)?.status === 'VOIDED')
      throw new PaymentDeclined('The authorization was voided; nothing was captured to refund');
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

/** Keys authorized with `tok_void_error`. */
const voidFailingKeys = sandboxState('payments-void-failing', () => new Set<string>());
/** Keys authorized with `tok_void_transient`: voids still to fail. */
const voidTransientFailures = sandboxState('payments-void-transient', () => new Map<string, number>());
