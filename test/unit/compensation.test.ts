import { describe, expect, it } from 'vitest';
import type { Carrier } from '../../functions/adapters/carrier.ts';
import type { CreditLedger } from '../../functions/adapters/customers-repository.ts';
import type { OrdersRepository } from '../../functions/adapters/orders-repository.ts';
import type { PaymentProvider } from '../../functions/adapters/payments.ts';
import type { StockLedger } from '../../functions/adapters/stock-repository.ts';
import { PaymentAlreadyCaptured } from '../../functions/core/errors.ts';
import { missingAfterInterruption } from '../../functions/core/order.ts';
import type { Order } from '../../functions/core/schemas.ts';
import { compensations } from '../../functions/lib/compensation.ts';

/** A shipment's allocation fields (one allocation, one warehouse). */
const allocated = { allocationId: 'A1', warehouseId: 'WH-BERLIN', lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }] };

/** The compensating actions against fakes of their ports: what each asks of the provider, carrier and stock. */
function setUp(
  order: Partial<Order>,
  options: { release?: 'released' | 'already-released' | 'none' | 'shipped'; parcelLeft?: boolean } = {},
) {
  const current: Order = {
    orderId: 'ord-00000000000000000000000001',
    status: 'SHIPPED',
    channel: 'web',
    customerId: 'CUST-1002',
    currency: 'EUR',
    requestedLines: [],
    shippingAddress: { name: 'n', line1: 'l', city: 'c', postalCode: 'p', country: 'DE' },
    payment: { method: 'card', token: 'tok_visa' },
    shipments: [],
    allocations: [{ allocationId: 'A1', warehouseId: 'WH-BERLIN', lines: [], at: '2026-01-01T00:00:00.000Z' }],
    stages: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...order,
  };
  const calls: string[] = [];
  const stages: [string, Record<string, unknown> | undefined][] = [];
  const deps = {
    orders: {
      get: async () => current,
      settlePayment: async (_orderId: string, status: string, captured: number) => {
        calls.push(`settle ${status} ${captured}`);
      },
      updateShipment: async (_orderId: string, shipmentId: string, changes: { status?: string }) => {
        calls.push(`record ${shipmentId} ${changes.status}`);
        return { ...current.shipments[0], status: changes.status };
      },
    } as unknown as OrdersRepository,
    payments: {
      void: async ({ authorizationKey }: { authorizationKey: string }) => {
        calls.push(`void ${authorizationKey}`);
        if (current.paymentRecord?.authorizationId === 'captured-there')
          throw new PaymentAlreadyCaptured('The payment was captured; it is not voided');
        return { captures: [] };
      },
    } as unknown as PaymentProvider,
    carrier: {
      cancel: async ({ shipmentId }: { shipmentId: string }) => {
        calls.push(`cancel ${shipmentId}`);
        return { cancelled: !options.parcelLeft };
      },
    } as unknown as Carrier,
    stock: {
      release: async (_orderId: string, { restock }: { restock?: readonly string[] }) => {
        calls.push(`release restock=${(restock ?? []).join(',')}`);
        const outcome = options.release ?? 'released';
        return outcome === 'shipped' ? { outcome: 'released', shipped: ['A1'] } : { outcome, shipped: [] };
      },
      ship: async () => {
        calls.push('ship');
        return true;
      },
    } as unknown as StockLedger,
    credit: { release: async () => true } as unknown as CreditLedger,
    recordStage: (async (_orderId: string, stage: string, changes?: { set?: Record<string, unknown> }) => {
      stages.push([stage, changes?.set]);
      return current;
    }) as never,
  };
  return { compensate: compensations(deps), calls, stages };
}

describe('compensating actions', () => {
  it('voids by key a card order with no payment record yet, so a late authorization under it is refused', async () => {
    const { compensate, calls, stages } = setUp({ status: 'RESERVED' });
    expect(await compensate.voidPayment('ord-00000000000000000000000001')).toBe('none');
    expect(calls).toEqual(['void ord-00000000000000000000000001:authorize']);
    expect(stages).toEqual([]); // nothing was authorized: nothing to announce
  });

  it('records a capture the provider reports instead of failing the compensation', async () => {
    const { compensate, stages } = setUp({
      paymentRecord: { method: 'card', status: 'AUTHORIZED', authorizationId: 'captured-there', amount: 100 },
    });
    expect(await compensate.voidPayment('ord-00000000000000000000000001')).toBe('captured');
    // Captured in full there: the record settles as captured for the amount authorized.
    expect(stages).toEqual([['OrderPaymentCaptured', undefined]]);
  });

  it('cancels a shipment recorded before the carrier answered (BOOKING) by its shipment id', async () => {
    const { compensate, calls } = setUp({
      shipments: [{ ...allocated, shipmentId: 's-1', carrier: 'SANDBOX', status: 'BOOKING' }],
    });
    expect(await compensate.cancelShipments('ord-00000000000000000000000001')).toBe('cancelled');
    expect(calls).toEqual(['cancel s-1', 'record s-1 CANCELLED']);
  });

  it('does not keep stock shipped for a shipment that never left but is not recorded cancelled', async () => {
    // The carrier accepted the cancellation, recording it failed: the stock must not silently stay shipped.
    const { compensate } = setUp(
      { shipments: [{ ...allocated, shipmentId: 's-1', carrier: 'SANDBOX', trackingNumber: 't', status: 'CREATED' }] },
      { release: 'shipped' },
    );
    await expect(compensate.releaseStock('ord-00000000000000000000000001')).rejects.toMatchObject({
      name: 'ShipmentNotCancelled',
    });
    const left = setUp(
      {
        shipments: [{ ...allocated, shipmentId: 's-1', carrier: 'SANDBOX', trackingNumber: 't', status: 'IN_TRANSIT' }],
      },
      { release: 'shipped' },
    );
    expect(await left.compensate.releaseStock('ord-00000000000000000000000001')).toBe(false);
  });

  it('counts a parcel the carrier picked up before its booking was recorded as gone, never as stock to sell again', async () => {
    const shipment = { ...allocated, shipmentId: 's-1', carrier: 'SANDBOX', status: 'BOOKING' as const };
    const { compensate, calls } = setUp({ shipments: [shipment] }, { parcelLeft: true });
    expect(await compensate.cancelShipments('ord-00000000000000000000000001')).toBe('left');
    expect(calls).toEqual(['cancel s-1', 'record s-1 IN_TRANSIT']);
    // Its allocation's stock ships; nothing else was held, so nothing is released.
    const after = setUp({ shipments: [{ ...shipment, status: 'IN_TRANSIT' }] }, { release: 'shipped' });
    expect(await after.compensate.releaseStock('ord-00000000000000000000000001')).toBe(false);
    expect(after.calls).toEqual(['ship']);
    // The order then says the goods left unpaid and uninvoiced (and alarms), instead of "compensated".
    const gone = {
      payment: { method: 'card' as const, token: 'tok_visa' },
      shipments: [{ ...shipment, status: 'IN_TRANSIT' as const }],
    };
    expect(missingAfterInterruption(gone)).toEqual(['payment', 'invoice']);
  });
});

describe('giving credit back', () => {
  const credit = (invoiceNumber?: string) => {
    const calls: string[] = [];
    const compensate = compensations({
      orders: {} as OrdersRepository,
      payments: {} as PaymentProvider,
      carrier: {} as Carrier,
      stock: {} as StockLedger,
      credit: {
        release: async () => {
          calls.push('release credit');
          return true;
        },
      } as unknown as CreditLedger,
      invoices: {
        withdraw: async () => {
          calls.push('withdraw invoice request');
          return { invoiceNumbers: invoiceNumber ? [invoiceNumber] : [] };
        },
      },
      recordStage: (async () => ({})) as never,
    });
    return { compensate, calls };
  };

  it('withdraws an invoice request still waiting for its number first, then gives the hold back', async () => {
    const { compensate, calls } = credit();
    expect(await compensate.releaseCredit('ord-00000000000000000000000001')).toBe(true);
    expect(calls).toEqual(['withdraw invoice request', 'release credit']);
  });

  it('once a shipment is invoiced, still gives back what is left of the hold (the invoiced part became debt)', async () => {
    const { compensate, calls } = credit('INV-2026-000042');
    expect(await compensate.releaseCredit('ord-00000000000000000000000001')).toBe(true);
    expect(calls).toEqual(['withdraw invoice request', 'release credit']);
  });
});
