import type { InvoiceLedger, RecordedPayment } from '../adapters/invoice-ledger.ts';
import type { StoredInvoice } from '../adapters/invoices-repository.ts';
import type { Mailer } from '../adapters/mailer.ts';
import { paymentReceiptEmail } from '../core/emails.ts';
import type { PaymentRequest } from '../core/schemas.ts';
import { type LedgerEvents, publishAndDeliver } from './ledger-events.ts';

export interface PaymentDeps {
  ledger: Pick<InvoiceLedger, 'recordPayment' | 'sendOnce' | 'markPaymentPublished'>;
  mailer: Pick<Mailer, 'send'>;
  /** Publishes OrderPaymentReceived (lib/ledger-events.ts). */
  events: Pick<LedgerEvents, 'paymentReceived'>;
  clock: () => Date;
}

/**
 * Records a payment on account once per reference (ledger.recordPayment), then publishes it
 * (OrderPaymentReceived) and, paid in full, sends the customer's receipt, each whatever came of the
 * other; a failure of either is thrown afterwards (the client retries with the same reference). Also
 * on a replay: the event again (same id, the recorded time) and a receipt that did not go out yet.
 * A payment whose event was never published stays in the pending index for the sweep (publishPayment).
 */
export async function receivePayment(
  deps: PaymentDeps,
  invoiceNumber: string,
  payment: PaymentRequest,
): Promise<{ invoice: StoredInvoice; payment: PaymentRequest; replayed: boolean }> {
  const outcome = await deps.ledger.recordPayment(invoiceNumber, payment, deps.clock());
  const { invoice } = outcome;
  const recorded = { orderId: invoice.orderId, invoiceNumber, payment: outcome.payment };
  await publishAndDeliver(
    () => publishPayment(deps, recorded, outcome.published),
    async () => {
      // Only for the payment that paid the invoice in full (not one replayed after a credit note settled
      // it), and claimed first, so concurrent replays send it once (one still being sent answers 503: retry).
      if (!outcome.paidInFull || invoice.receiptSentAt) return;
      await deps.ledger.sendOnce('INV', invoiceNumber, 'receiptSentAt', deps.clock, () =>
        deps.mailer.send({ to: [invoice.customerEmail], ...paymentReceiptEmail(invoice, outcome.payment) }),
      );
    },
  );
  return { invoice, payment: outcome.payment, replayed: outcome.replayed };
}

/** A recorded payment's OrderPaymentReceived, then (once) its leaving the pending index: the sweep's step too. */
export async function publishPayment(
  deps: Pick<PaymentDeps, 'ledger' | 'events' | 'clock'>,
  recorded: RecordedPayment,
  marked = false,
): Promise<void> {
  await deps.events.paymentReceived(recorded, recorded.payment);
  if (!marked) await deps.ledger.markPaymentPublished(recorded.invoiceNumber, recorded.payment.reference, deps.clock());
}
