import type { Carrier } from '../adapters/carrier.ts';
import type { CreditLedger } from '../adapters/customers-repository.ts';
import type { InvoicesRepository } from '../adapters/invoices-repository.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import { type PaymentProvider, paymentKey } from '../adapters/payments.ts';
import type { StockLedger } from '../adapters/stock-repository.ts';
import { OrderClosed, PaymentAlreadyCaptured } from '../core/errors.ts';
import type { StageName, stageRecorder } from './stages.ts';

export interface CompensationDeps {
  orders: OrdersRepository;
  payments: PaymentProvider;
  carrier: Carrier;
  stock: StockLedger;
  credit: CreditLedger;
  /** Where an order's invoice request waits for its number (withdrawn before credit is given back). */
  invoices?: Pick<InvoicesRepository, 'withdraw'>;
  recordStage: ReturnType<typeof stageRecorder>;
}

/**
 * The compensating actions, shared by the workflow's own compensation states (VoidPayment,
 * ReleaseStock, the close) and the reconciler of interrupted executions. Each is idempotent and
 * safe to run concurrently with itself: the provider and carrier calls are keyed, the stock and
 * credit moves are conditional transactions, the stages are recorded once. Each announces its
 * event again when it finds its work already done (the first attempt's publish may have failed).
 */
export function compensations(deps: CompensationDeps) {
  /** A stage on an order that may have been closed meanwhile (e.g. by the reconciler): recorded if still open. */
  const announce = async (orderId: string, stage: StageName, set?: Record<string, unknown>) => {
    try {
      await deps.recordStage(orderId, stage, set ? { set } : {});
    } catch (error) {
      if (!(error instanceof OrderClosed)) throw error;
    }
  };

  return {
    /**
     * Voids the card authorization by its idempotency key whenever the order pays by card and the
     * payment is not captured: one may exist (PENDING: asked for, answer not recorded), or a task
     * still running may yet ask for one; voiding a key never used makes the provider refuse a later
     * authorization under it. A captured payment is never voided (delivered goods: ops decide);
     * a provider answering "already captured" gets the capture recorded.
     */
    async voidPayment(orderId: string): Promise<'voided' | 'captured' | 'none'> {
      const order = await deps.orders.get(orderId);
      if (order.payment.method !== 'card') return 'none';
      const record = order.paymentRecord;
      if (record?.status === 'CAPTURED') return 'captured';
      const authorizationKey = record?.idempotencyKey ?? paymentKey(orderId, 'authorize');
      if (record?.status !== 'VOIDED') {
        try {
          await deps.payments.void({ authorizationKey });
        } catch (error) {
          if (!(error instanceof PaymentAlreadyCaptured)) throw error;
          // Captured at the provider, not recorded here (CapturePayment stopped after the call).
          const captured = record ?? { method: 'card' as const, idempotencyKey: authorizationKey, amount: 0 };
          await announce(orderId, 'OrderPaymentCaptured', { paymentRecord: { ...captured, status: 'CAPTURED' } });
          return 'captured';
        }
      }
      // Nothing was asked for: the key is fenced at the provider, there is nothing to announce.
      if (!record) return 'none';
      // VOIDED already: announced again, the provider is not asked twice.
      await announce(orderId, 'OrderPaymentVoided', { paymentRecord: { ...record, status: 'VOIDED' } });
      return 'voided';
    },

    /**
     * Cancels booked shipments whose parcel has not left (BOOKING: asked for, answer maybe not
     * recorded; CREATED: booked), by shipment id; a shipment the carrier picked up stays. A
     * cancellation the carrier accepted but we failed to record is asked again (it is idempotent).
     */
    async cancelShipments(orderId: string): Promise<'cancelled' | 'left' | 'none'> {
      const order = await deps.orders.get(orderId);
      let cancelledAny = false;
      let left = false;
      for (const shipment of order.shipments) {
        if (shipment.status === 'CANCELLED') {
          cancelledAny = true;
          continue;
        }
        if (shipment.status !== 'CREATED' && shipment.status !== 'BOOKING') {
          left = true;
          continue;
        }
        const { cancelled } = await deps.carrier.cancel(shipment);
        // Not cancelled: the carrier picked the parcel up, perhaps before we recorded the booking at
        // all; recorded as in transit, so its stock counts as shipped and the order says what is missing.
        const stored = await deps.orders.updateShipment(orderId, shipment.shipmentId, {
          status: cancelled ? 'CANCELLED' : 'IN_TRANSIT',
          ...(cancelled ? { taskToken: null } : {}),
        });
        if (stored?.status === 'CANCELLED') cancelledAny = true;
        else left = true;
      }
      if (left) return 'left';
      if (!cancelledAny) return 'none';
      await announce(orderId, 'OrderShipmentCancelled');
      return 'cancelled';
    },

    /**
     * Returns held stock, and stock booked for shipments that were all cancelled before they left.
     * Stock that left with the carrier stays shipped. Stock shipped for a shipment that neither left
     * nor was recorded cancelled is an error (retried, then flagged), never silently kept.
     */
    async releaseStock(orderId: string): Promise<boolean> {
      const order = await deps.orders.get(orderId);
      const allocationIds = (order.allocations ?? []).map((a) => a.allocationId);
      // A shipment names its allocation; one without (a single shipment for the whole order) covers all.
      const shipmentsOf = (allocationId: string) =>
        order.shipments.filter((s) => {
          const named = (s as { allocationId?: string }).allocationId;
          return named === undefined || named === allocationId;
        });
      // Goods that left with the carrier are not sellable again: stock still held for them ships.
      const left = allocationIds.filter((id) => shipmentsOf(id).some((s) => LEFT.includes(s.status)));
      for (const id of left) await deps.stock.ship(orderId, id);
      if (left.length > 0 && left.length === allocationIds.length) return false;
      const restock = allocationIds.filter((id) => {
        const shipments = shipmentsOf(id);
        return shipments.length > 0 && shipments.every((s) => s.status === 'CANCELLED');
      });
      const { outcome, shipped } = await deps.stock.release(orderId, { restock });
      if (shipped.some((id) => !left.includes(id)))
        throw new ShipmentNotCancelled(`Stock of order ${orderId} is booked for a shipment not recorded as cancelled`);
      if (outcome === 'released' || outcome === 'already-released') {
        // 'already-released' after a tombstone written for an order that never reserved is not news.
        if (outcome === 'released' || order.stages.OrderStockReserved) await announce(orderId, 'OrderStockReleased');
        return true;
      }
      return false;
    },

    /**
     * Withdraws an invoice request still waiting for its number, then gives the credit hold back.
     * Once numbered, the invoice exists and its hold became invoiced debt: nothing is given back.
     */
    async releaseCredit(orderId: string): Promise<boolean> {
      if (deps.invoices && (await deps.invoices.withdraw(orderId)).invoiceNumber) return false;
      return deps.credit.release(orderId);
    },
  };
}

/** Shipment statuses after the carrier picked the parcel up: the goods have left. */
const LEFT: readonly string[] = ['IN_TRANSIT', 'DELIVERED', 'LOST'];

/** The stock of a shipment that did not leave is still counted as shipped: its cancellation is not recorded. */
export class ShipmentNotCancelled extends Error {
  override name = 'ShipmentNotCancelled';
}
