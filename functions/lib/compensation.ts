import type { Carrier } from '../adapters/carrier.ts';
import type { CreditLedger } from '../adapters/customers-repository.ts';
import type { InvoicesRepository } from '../adapters/invoices-repository.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import { type PaymentProvider, paymentKey, shipmentOfCapture } from '../adapters/payments.ts';
import type { StockLedger } from '../adapters/stock-repository.ts';
import { OrderClosed, PaymentAlreadyCaptured } from '../core/errors.ts';
import type { Order } from '../core/schemas.ts';
import { isCommitted } from '../core/shipment.ts';
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
     * Voids what is left of the card authorization by its idempotency key whenever the order pays by
     * card and is not captured in full: one may exist (PENDING: asked for, answer not recorded), or a
     * task still running may yet ask for one; voiding a key never used makes the provider refuse a
     * later authorization under it. Shipments captured stay captured (their goods go, ops decide
     * about money back); captures the provider reports and we did not record are recorded first, so
     * their shipments are not cancelled. Fully captured: never voided.
     */
    async voidPayment(orderId: string): Promise<'voided' | 'captured' | 'none'> {
      const order = await deps.orders.get(orderId);
      if (order.payment.method !== 'card') return 'none';
      const record = order.paymentRecord;
      if (record?.status === 'CAPTURED') return 'captured';
      const authorizationKey = record?.idempotencyKey ?? paymentKey(orderId, 'authorize');
      let captured = record?.captured ?? 0;
      if (record?.status !== 'VOIDED') {
        try {
          const { captures } = await deps.payments.void({ authorizationKey });
          for (const capture of captures) {
            const shipmentId = shipmentOfCapture(capture.captureKey);
            const shipment = order.shipments.find((s) => s.shipmentId === shipmentId);
            if (!shipment || shipment.captureId) continue;
            await deps.orders.recordCapture(orderId, shipment.shipmentId, capture.captureId, capture.amount);
            captured += capture.amount;
          }
        } catch (error) {
          if (!(error instanceof PaymentAlreadyCaptured)) throw error;
          // Captured in full at the provider, not all recorded here (CapturePayment stopped after the call).
          if (record) await deps.orders.settlePayment(orderId, 'CAPTURED', record.amount);
          await announce(orderId, 'OrderPaymentCaptured');
          return 'captured';
        }
      }
      // Nothing was asked for: the key is fenced at the provider, there is nothing to announce.
      if (!record) return 'none';
      if (captured > 0) {
        // Part captured (shipments that went), the rest voided: the payment is settled as captured.
        await deps.orders.settlePayment(orderId, 'CAPTURED', captured);
        await announce(orderId, 'OrderPaymentCaptured');
        return 'captured';
      }
      // VOIDED already: announced again, the provider is not asked twice.
      await announce(orderId, 'OrderPaymentVoided', { paymentRecord: { ...record, status: 'VOIDED' } });
      return 'voided';
    },

    /**
     * Cancels booked shipments whose parcel has not left (BOOKING: asked for, answer maybe not
     * recorded; CREATED: booked), by shipment id; a shipment the carrier picked up stays, and so does
     * one already charged for (captured or invoiced): it goes. A cancellation the carrier accepted
     * but we failed to record is asked again (it is idempotent).
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
        if ((shipment.status !== 'CREATED' && shipment.status !== 'BOOKING') || isCommitted(shipment)) {
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
      if (cancelledAny) await announce(orderId, 'OrderShipmentCancelled');
      if (left) return 'left';
      return cancelledAny ? 'cancelled' : 'none';
    },

    /**
     * Per allocation: stock of a shipment that left (or is charged for) ships; stock still held for
     * allocations without such a shipment goes back, and so does stock shipped for a shipment that
     * was cancelled before it left. Stock shipped for a shipment that neither left nor was recorded
     * cancelled is an error (retried, then flagged), never silently kept.
     */
    async releaseStock(orderId: string): Promise<boolean> {
      const order = await deps.orders.get(orderId);
      const going = (s: Order['shipments'][number]) => LEFT.includes(s.status) || isCommitted(s);
      const allocationIds = (order.allocations ?? []).map((a) => a.allocationId);
      // Goods that left with the carrier (or are charged for) are not sellable again: stock still held for them ships.
      const gone = new Set(order.shipments.filter(going).map((s) => s.allocationId));
      for (const id of gone) await deps.stock.ship(orderId, id);
      const waiting = order.backorder?.lines.length ?? 0;
      if (gone.size > 0 && waiting === 0 && allocationIds.every((id) => gone.has(id))) return false;
      const restock = order.shipments.filter((s) => s.status === 'CANCELLED').map((s) => s.allocationId);
      const { outcome, shipped } = await deps.stock.release(orderId, { restock });
      // Booked, its stock shipped, neither gone nor cancelled: its cancellation is not recorded.
      if (shipped.some((id) => !gone.has(id)))
        throw new ShipmentNotCancelled(`Stock of order ${orderId} is booked for a shipment not recorded as cancelled`);
      if (outcome === 'released' || outcome === 'already-released') {
        // 'already-released' after a tombstone written for an order that never reserved is not news.
        if (outcome === 'released' || order.stages.OrderStockReleased) await announce(orderId, 'OrderStockReleased');
        return true;
      }
      return false;
    },

    /**
     * One allocation that will not ship (the order was cancelled before it was booked): its held
     * stock goes back, the rest of the order is untouched. A booking recorded for it counts as shipped.
     */
    async releaseAllocation(orderId: string, allocationId: string): Promise<boolean> {
      const order = await deps.orders.get(orderId);
      const shipment = order.shipments.find((s) => s.allocationId === allocationId);
      if (shipment && shipment.status !== 'CANCELLED') return false;
      const released = await deps.stock.releaseAllocation(orderId, allocationId);
      if (released) await announce(orderId, 'OrderAllocationReleased');
      return released;
    },

    /**
     * Withdraws the order's invoice requests still waiting for their numbers (and any later one),
     * then gives back what is left of the credit hold: each invoice already numbered turned its part
     * of the hold into invoiced debt, so only the rest is given back.
     */
    async releaseCredit(orderId: string): Promise<boolean> {
      if (deps.invoices) await deps.invoices.withdraw(orderId);
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
