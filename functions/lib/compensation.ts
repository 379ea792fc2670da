import type { Carrier } from '../adapters/carrier.ts';
import type { StockLedger } from '../adapters/catalog-repository.ts';
import type { CreditLedger } from '../adapters/customers-repository.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import { type PaymentProvider, paymentKey } from '../adapters/payments.ts';
import { OrderClosed } from '../core/errors.ts';
import type { stageRecorder } from './stages.ts';

export interface CompensationDeps {
  orders: OrdersRepository;
  payments: PaymentProvider;
  carrier: Carrier;
  stock: StockLedger;
  credit: CreditLedger;
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
  const announce = async (orderId: string, stage: `Order${string}`, set?: Record<string, unknown>) => {
    try {
      await deps.recordStage(orderId, stage, set ? { set } : {});
    } catch (error) {
      if (!(error instanceof OrderClosed)) throw error;
    }
  };

  return {
    /**
     * Voids an authorization that exists or may exist (PENDING: asked for, answer not recorded), by
     * its idempotency key. A captured payment is never voided (delivered goods: ops decide).
     */
    async voidPayment(orderId: string): Promise<'voided' | 'captured' | 'none'> {
      const order = await deps.orders.get(orderId);
      const record = order.paymentRecord;
      if (record?.method !== 'card') return 'none';
      if (record.status === 'CAPTURED') return 'captured';
      if (record.status === 'PENDING' || record.status === 'AUTHORIZED')
        await deps.payments.void({ authorizationKey: record.idempotencyKey ?? paymentKey(orderId, 'authorize') });
      // VOIDED already: announced again, the provider is not asked twice.
      await announce(orderId, 'OrderPaymentVoided', { paymentRecord: { ...record, status: 'VOIDED' } });
      return 'voided';
    },

    /** Cancels a booked shipment whose parcel has not left; a shipment the carrier picked up stays. */
    async cancelShipments(orderId: string): Promise<'cancelled' | 'left' | 'none'> {
      const order = await deps.orders.get(orderId);
      let outcome: 'cancelled' | 'left' | 'none' = 'none';
      for (const shipment of order.shipments) {
        if (shipment.status === 'CANCELLED') {
          outcome = 'cancelled';
          continue;
        }
        if (shipment.status !== 'CREATED') return 'left';
        const { cancelled } = await deps.carrier.cancel(shipment);
        if (!cancelled) return 'left';
        const stored = await deps.orders.updateShipment(orderId, shipment.shipmentId, {
          status: 'CANCELLED',
          taskToken: null,
        });
        if (stored.status !== 'CANCELLED') return 'left'; // the carrier's scan arrived first
        outcome = 'cancelled';
      }
      if (outcome === 'cancelled') await announce(orderId, 'OrderShipmentCancelled');
      return outcome;
    },

    /**
     * Returns held stock, and stock booked for a shipment that was cancelled before it left.
     * Stock that left with the carrier stays shipped.
     */
    async releaseStock(orderId: string): Promise<boolean> {
      const order = await deps.orders.get(orderId);
      const restockShipped =
        order.shipments.length > 0 && order.shipments.every((shipment) => shipment.status === 'CANCELLED');
      const outcome = await deps.stock.release(orderId, { restockShipped });
      if (outcome === 'released' || outcome === 'already-released') {
        // 'already-released' after a tombstone written for an order that never reserved is not news.
        if (outcome === 'released' || order.stages.OrderStockReserved) await announce(orderId, 'OrderStockReleased');
        return true;
      }
      return false;
    },

    async releaseCredit(orderId: string): Promise<boolean> {
      return deps.credit.release(orderId);
    },
  };
}
