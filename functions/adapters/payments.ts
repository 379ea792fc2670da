import { PaymentDeclined, PaymentProviderUnavailable } from '../core/errors.ts';

/** The payment port: what the workflow needs from a card payment provider. */
export interface PaymentProvider {
  authorize(request: {
    orderId: string;
    token: string;
    amount: number;
    currency: string;
  }): Promise<{ authorizationId: string }>;
  capture(authorizationId: string, amount: number): Promise<void>;
  void(authorizationId: string): Promise<void>;
}

/**
 * Sandbox provider with the usual test tokens: `tok_visa` authorizes, `tok_declined` is declined,
 * `tok_error` fails transiently twice per order and then authorizes (so the workflow's Retry is
 * exercised). Authorizations are keyed by order id, as a real provider's idempotency key would be.
 */
export class SandboxPaymentProvider implements PaymentProvider {
  private readonly failures = new Map<string, number>();
  static readonly TRANSIENT_FAILURES = 2;

  async authorize(request: { orderId: string; token: string; amount: number; currency: string }) {
    switch (request.token) {
      case 'tok_visa':
        return { authorizationId: `auth_${request.orderId}` };
      case 'tok_error': {
        const failed = this.failures.get(request.orderId) ?? 0;
        if (failed < SandboxPaymentProvider.TRANSIENT_FAILURES) {
          this.failures.set(request.orderId, failed + 1);
          throw new PaymentProviderUnavailable('Payment provider timed out (sandbox tok_error)');
        }
        this.failures.delete(request.orderId);
        return { authorizationId: `auth_${request.orderId}` };
      }
      case 'tok_declined':
        throw new PaymentDeclined('Card declined by the issuer (sandbox tok_declined)');
      default:
        throw new PaymentDeclined('Unknown card token; the sandbox accepts tok_visa, tok_declined and tok_error');
    }
  }

  // The sandbox keeps no balances: capturing and voiding an authorization it issued always succeed.
  async capture(_authorizationId: string, _amount: number): Promise<void> {}
  async void(_authorizationId: string): Promise<void> {}
}
