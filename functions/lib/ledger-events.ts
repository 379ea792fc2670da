import type { EventPublisher } from '../adapters/event-publisher.ts';
import type { StoredCreditNote, StoredInvoice } from '../adapters/invoices-repository.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import { orderEventDetail } from '../core/events.ts';
import type { PaymentRequest } from '../core/schemas.ts';
import { errorLabel } from './http.ts';
import { logger } from './powertools.ts';

/**
 * The facts about an order's invoices that are published but not stages on the order (LEDGER_EVENTS):
 * a credit note numbered, a payment recorded. Every path that finds the fact recorded publishes it
 * (at least once, like lib/stages.ts): a retry or the sweep publishes the same event again, with the
 * same eventId (the note, or the invoice and the payment's reference) and the fact's stored time.
 */
export interface LedgerEvents {
  creditNoteIssued(
    note: Pick<StoredCreditNote, 'orderId' | 'creditNoteNumber' | 'invoiceNumber' | 'issuedAt' | 'totals'>,
  ): Promise<void>;
  paymentReceived(invoice: Pick<StoredInvoice, 'orderId' | 'invoiceNumber'>, payment: PaymentRequest): Promise<void>;
}

export function ledgerEvents(deps: {
  orders: Pick<OrdersRepository, 'get'>;
  events: Pick<EventPublisher, 'publish'>;
}): LedgerEvents {
  return {
    async creditNoteIssued(note) {
      const order = await deps.orders.get(note.orderId);
      await deps.events.publish('OrderCreditNoteIssued', {
        // The note's date (stored with it): a republish keeps it.
        ...orderEventDetail(order, 'OrderCreditNoteIssued', note.issuedAt, note.creditNoteNumber),
        creditNoteNumber: note.creditNoteNumber,
        invoiceNumber: note.invoiceNumber,
        amount: note.totals.total,
      });
    },
    async paymentReceived(invoice, payment) {
      const order = await deps.orders.get(invoice.orderId);
      // A reference is unique per invoice (PAYMENT#<invoice>#<reference>): both name the payment.
      const discriminator = `${invoice.invoiceNumber}:${payment.reference}`;
      await deps.events.publish('OrderPaymentReceived', {
        ...orderEventDetail(order, 'OrderPaymentReceived', payment.receivedAt, discriminator),
        invoiceNumber: invoice.invoiceNumber,
        reference: payment.reference,
        amount: payment.amount,
      });
    },
  };
}

/**
 * Publishing a fact and its e-mails do not hold each other back (a bus outage does not delay the
 * customer's e-mail, an e-mail that keeps failing does not hide the fact): `publish` runs first, then
 * `deliver` whatever came of it; afterwards the first failure is thrown (the caller's retry or the
 * sweep does what is left), a second one logged.
 */
export async function publishAndDeliver<T>(publish: () => Promise<unknown>, deliver: () => Promise<T>): Promise<T> {
  const published = await publish().then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  try {
    const delivered = await deliver();
    if (!published.ok) throw published.error;
    return delivered;
  } catch (error) {
    if (!published.ok && error !== published.error)
      logger.error('Publishing a ledger event failed', { ...errorLabel(published.error) });
    throw error;
  }
}
