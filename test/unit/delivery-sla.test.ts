import { describe, expect, it } from 'vitest';
import { DEFAULT_DELIVERY_SLA_DAYS, deliveryOverdue, deliveryOverdueSince } from '../../functions/core/delivery-sla.ts';
import type { Shipment } from '../../functions/core/schemas.ts';

const now = new Date('2026-03-10T12:00:00.000Z');
const shipment = (status: Shipment['status']): Shipment => ({
  shipmentId: 's-1',
  carrier: 'SANDBOX',
  trackingNumber: 'T',
  status,
  allocationId: 'A1',
  warehouseId: 'WH-BERLIN',
  lines: [{ sku: 'CABLE-USB-C', quantity: 1 }],
});
const order = (shippedAt: string | undefined, statuses: Shipment['status'][], status = 'SHIPPED') =>
  ({
    status,
    stages: shippedAt ? { OrderShipped: shippedAt } : {},
    shipments: statuses.map(shipment),
  }) as Parameters<typeof deliveryOverdue>[0];

describe('delivery SLA', () => {
  it('defaults to 7 days', () => expect(DEFAULT_DELIVERY_SLA_DAYS).toBe(7));

  it('is overdue once the first shipment is older than the SLA and a parcel is still on its way', () => {
    expect(deliveryOverdue(order('2026-03-03T11:59:59.000Z', ['IN_TRANSIT']), now, 7)).toBe(true);
    expect(deliveryOverdue(order('2026-03-03T11:59:59.000Z', ['DELIVERED', 'CREATED']), now, 7)).toBe(true);
  });

  it('is not overdue at exactly the SLA, within it, or before shipping', () => {
    expect(deliveryOverdue(order('2026-03-03T12:00:00.000Z', ['IN_TRANSIT']), now, 7)).toBe(false);
    expect(deliveryOverdue(order('2026-03-09T12:00:00.000Z', ['IN_TRANSIT']), now, 7)).toBe(false);
    expect(deliveryOverdue(order(undefined, ['BOOKING'], 'RESERVED'), now, 7)).toBe(false);
  });

  it('is not overdue when every parcel arrived, was lost or cancelled, or the order is closed', () => {
    const old = '2026-02-01T00:00:00.000Z';
    expect(deliveryOverdue(order(old, ['DELIVERED', 'LOST', 'CANCELLED']), now, 7)).toBe(false);
    expect(deliveryOverdue(order(old, ['IN_TRANSIT'], 'FAILED'), now, 7)).toBe(false);
  });

  it('follows a shorter SLA', () => {
    expect(deliveryOverdue(order('2026-03-08T11:00:00.000Z', ['IN_TRANSIT']), now, 2)).toBe(true);
  });

  it('times each parcel from its own shipment: the recent parcel of a split order is not overdue, an old one still waiting is', () => {
    const firstShipped = '2026-02-20T09:00:00.000Z'; // 18 days ago
    const parcel = (id: string, status: Shipment['status'], shippedAt: string): Shipment => ({
      ...shipment(status),
      shipmentId: id,
      shippedAt,
    });
    const split = (...shipments: Shipment[]) =>
      ({ status: 'SHIPPED', stages: { OrderShipped: firstShipped }, shipments }) as Parameters<
        typeof deliveryOverdue
      >[0];
    // The first parcel arrived long ago; the backordered one left two days ago.
    const recent = split(
      parcel('s-1', 'DELIVERED', firstShipped),
      parcel('s-2', 'IN_TRANSIT', '2026-03-08T12:00:00.000Z'),
    );
    expect(deliveryOverdue(recent, now, 7)).toBe(false);
    // The old parcel is still on its way: overdue, since it left.
    const oldWaiting = split(
      parcel('s-1', 'IN_TRANSIT', firstShipped),
      parcel('s-2', 'CREATED', '2026-03-08T12:00:00.000Z'),
    );
    expect(deliveryOverdue(oldWaiting, now, 7)).toBe(true);
    expect(deliveryOverdueSince(oldWaiting, now, 7)).toBe(firstShipped);
    // A later parcel waiting past the SLA on its own is overdue from its own time.
    const lateSecond = split(
      parcel('s-1', 'DELIVERED', firstShipped),
      parcel('s-2', 'IN_TRANSIT', '2026-03-02T12:00:00.000Z'),
    );
    expect(deliveryOverdueSince(lateSecond, now, 7)).toBe('2026-03-02T12:00:00.000Z');
  });
});
