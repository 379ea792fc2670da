import { describe, expect, it } from 'vitest';
import { cancellableShipments, cancellationEmail, decideCancellation } from '../../functions/core/cancellation.ts';
import { timelineOf } from '../../functions/core/order.ts';

const at = '2025-01-01T00:00:00.000Z';
const base = {
  orderId: 'ord-01jabcdefghjkmnpqrstvwxyz0',
  status: 'RESERVED' as const,
  requestedLines: [
    { sku: 'WIDGET-BLUE', quantity: 3, unitPrice: 1250 },
    { sku: 'GADGET-MINI', quantity: 2, unitPrice: 3900 },
  ],
  shipments: [] as { status: string; allocationId?: string }[],
};
const a1 = {
  allocationId: 'A1',
  warehouseId: 'WH-BERLIN',
  lines: [
    { sku: 'WIDGET-BLUE', quantity: 2 },
    { sku: 'GADGET-MINI', quantity: 2 },
  ],
  at,
};
const a2 = { allocationId: 'A2', warehouseId: 'WH-ROTTERDAM', lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }], at };

describe('cancellation rules', () => {
  it('cancels a whole order that has not reserved yet: every requested line', () => {
    expect(decideCancellation({ ...base, status: 'RECEIVED' })).toEqual({
      kind: 'whole',
      reason: 'Nothing has been shipped',
      cancelled: [
        { sku: 'WIDGET-BLUE', quantity: 3 },
        { sku: 'GADGET-MINI', quantity: 2 },
      ],
    });
  });

  it('cancels a whole backordered order: what is held and what waits', () => {
    const decision = decideCancellation({
      ...base,
      status: 'BACKORDERED',
      allocations: [{ ...a1, lines: [{ sku: 'GADGET-MINI', quantity: 2 }] }],
      backorder: { lines: [{ sku: 'WIDGET-BLUE', quantity: 3 }], since: at, expiresAt: at },
    });
    expect(decision).toMatchObject({ kind: 'whole' });
    expect(decision.kind !== 'refused' && decision.cancelled).toEqual([
      { sku: 'GADGET-MINI', quantity: 2 },
      { sku: 'WIDGET-BLUE', quantity: 3 },
    ]);
  });

  it('refuses an ended order, naming its status', () => {
    for (const status of ['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED'] as const)
      expect(decideCancellation({ ...base, status })).toEqual({
        kind: 'refused',
        reason: `Order ${base.orderId} is already ${status}`,
      });
  });

  it('counts a booked shipment of the whole order as shipped (booked, picked up, delivered, lost)', () => {
    for (const status of ['BOOKING', 'CREATED', 'IN_TRANSIT', 'DELIVERED', 'LOST']) {
      const decision = decideCancellation({
        ...base,
        status: 'SHIPPED',
        allocations: [a1, a2],
        shipments: [{ status }],
      });
      expect(decision.kind).toBe('refused');
      expect(decision.reason).toContain('a booked shipment counts as shipped');
    }
  });

  it('gives a shipment cancelled before it left its allocation back: the order can still be cancelled whole', () => {
    const order = { ...base, allocations: [a1, a2], shipments: [{ status: 'CANCELLED' }] };
    expect(cancellableShipments(order)).toEqual({ committed: [], open: ['A1', 'A2'] });
    expect(decideCancellation(order).kind).toBe('whole');
  });

  it('cancels only the remainder after a partial shipment (shipments per allocation)', () => {
    const order = {
      ...base,
      status: 'SHIPPED' as const,
      allocations: [a1, a2],
      backorder: { lines: [{ sku: 'GADGET-MINI', quantity: 1 }], since: at, expiresAt: at },
      shipments: [{ status: 'IN_TRANSIT', allocationId: 'A1' }],
    };
    expect(cancellableShipments(order)).toEqual({ committed: ['A1'], open: ['A2'] });
    expect(decideCancellation(order)).toEqual({
      kind: 'remainder',
      reason: 'Part of the order has been shipped: only what has not is cancelled',
      cancelled: [
        { sku: 'WIDGET-BLUE', quantity: 1 },
        { sku: 'GADGET-MINI', quantity: 1 },
      ],
    });
  });

  it('refuses when every allocation is committed to its shipment and nothing waits', () => {
    const order = {
      ...base,
      status: 'SHIPPED' as const,
      allocations: [a1, a2],
      shipments: [
        { status: 'DELIVERED', allocationId: 'A1' },
        { status: 'CREATED', allocationId: 'A2' },
      ],
    };
    expect(decideCancellation(order).kind).toBe('refused');
  });

  it('writes the customer e-mail with what was cancelled', () => {
    const mail = cancellationEmail({
      orderId: base.orderId,
      kind: 'whole',
      reason: 'Ordered twice',
      cancelled: [{ sku: 'WIDGET-BLUE', quantity: 3 }],
    });
    expect(mail.subject).toBe(`Order ${base.orderId} cancelled`);
    expect(mail.text).toContain('  3 x WIDGET-BLUE');
    expect(mail.text).toContain('Ordered twice');
    expect(cancellationEmail({ orderId: 'x', kind: 'remainder', reason: 'r', cancelled: [] }).subject).toContain(
      'items cancelled',
    );
  });

  it('puts who cancelled and why on the timeline, people by role for machine clients', () => {
    const cancellation = {
      requestedAt: at,
      by: { kind: 'user' as const, id: 'alice', role: 'rep' },
      reason: 'Ordered twice',
      kind: 'whole' as const,
    };
    const order = {
      stages: { OrderReceived: at, OrderCancellationRequested: at, OrderCancelled: at },
      cancellation,
      failure: { code: 'OrderCancelled', message: 'Cancelled by user (rep): Ordered twice' },
    };
    expect(timelineOf(order, 'staff').filter((e) => e.by)).toEqual([
      { at, type: 'OrderCancellationRequested', by: 'user:alice', reason: 'Ordered twice' },
      { at, type: 'OrderCancelled', by: 'user:alice', reason: 'Ordered twice' },
    ]);
    expect(timelineOf(order, 'client').find((e) => e.type === 'OrderCancelled')?.by).toBe('user (rep)');
    // An order cancelled because its backorder expired was not cancelled by anyone.
    const expired = { ...order, failure: { code: 'BackorderExpired', message: '' } };
    expect(timelineOf(expired, 'staff').find((e) => e.type === 'OrderCancelled')?.by).toBeUndefined();
  });
});
