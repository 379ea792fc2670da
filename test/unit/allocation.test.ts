import { describe, expect, it } from 'vitest';
import { allocate, remainder, sumBySku } from '../../functions/core/allocation.ts';
import { lineQuantities } from '../../functions/core/quantities.ts';
import { OrderRequest } from '../../functions/core/schemas.ts';
import { maxLinesFor, reservationItems, TRANSACTION_ITEM_LIMIT } from '../../functions/core/warehouses.ts';

const levels = (spec: Record<string, Record<string, number>>) =>
  new Map(Object.entries(spec).map(([sku, w]) => [sku, new Map(Object.entries(w))]));
const WH = ['WH-BERLIN', 'WH-ROTTERDAM'];

describe('allocate', () => {
  it('serves the whole order from the default warehouse when it can', () => {
    const plan = allocate([{ sku: 'A', quantity: 2 }], levels({ A: { 'WH-BERLIN': 5, 'WH-ROTTERDAM': 5 } }), WH);
    expect(plan).toEqual({
      allocations: [{ warehouseId: 'WH-BERLIN', lines: [{ sku: 'A', quantity: 2 }] }],
      backorder: [],
    });
  });

  it('prefers a single other warehouse that serves the whole order over splitting it', () => {
    const lines = [
      { sku: 'A', quantity: 2 },
      { sku: 'B', quantity: 3 },
    ];
    const plan = allocate(lines, levels({ A: { 'WH-BERLIN': 5, 'WH-ROTTERDAM': 2 }, B: { 'WH-ROTTERDAM': 3 } }), WH);
    expect(plan.allocations).toEqual([{ warehouseId: 'WH-ROTTERDAM', lines }]);
  });

  it('splits a line default-first and backorders what no warehouse has', () => {
    const plan = allocate(
      [
        { sku: 'A', quantity: 10 },
        { sku: 'B', quantity: 1 },
      ],
      levels({ A: { 'WH-BERLIN': 4, 'WH-ROTTERDAM': 3 }, B: { 'WH-BERLIN': 0 } }),
      WH,
    );
    expect(plan.allocations).toEqual([
      { warehouseId: 'WH-BERLIN', lines: [{ sku: 'A', quantity: 4 }] },
      { warehouseId: 'WH-ROTTERDAM', lines: [{ sku: 'A', quantity: 3 }] },
    ]);
    expect(plan.backorder).toEqual([
      { sku: 'A', quantity: 3 },
      { sku: 'B', quantity: 1 },
    ]);
  });

  it('conserves quantities: allocated + backordered = ordered, never more than available', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = (n: number) => (seed * 7919 + n * 104729) % 13;
      const lines = ['A', 'B', 'C'].map((sku, i) => ({ sku, quantity: rand(i) + 1 }));
      const stock = levels(
        Object.fromEntries(lines.map((l, i) => [l.sku, { 'WH-BERLIN': rand(i + 3), 'WH-ROTTERDAM': rand(i + 7) }])),
      );
      const plan = allocate(lines, stock, WH);
      const allocated = plan.allocations.flatMap((a) => a.lines);
      expect(remainder(lines, allocated)).toEqual(plan.backorder);
      for (const a of plan.allocations)
        for (const l of a.lines) expect(l.quantity).toBeLessThanOrEqual(stock.get(l.sku)?.get(a.warehouseId) ?? 0);
      const total = sumBySku([...allocated, ...plan.backorder]);
      for (const l of lines) expect(total.get(l.sku)).toBe(l.quantity);
    }
  });
});

describe('lineQuantities', () => {
  const at = '2026-01-01T00:00:00.000Z';
  it('splits each line into reserved, backordered, shipped, delivered, invoiced and cancelled', () => {
    const quantities = lineQuantities({
      status: 'SHIPPED',
      requestedLines: [{ sku: 'A', quantity: 10, unitPrice: 1 }],
      allocations: [
        { allocationId: 'A1', warehouseId: 'WH-BERLIN', lines: [{ sku: 'A', quantity: 4 }], at },
        { allocationId: 'A2', warehouseId: 'WH-ROTTERDAM', lines: [{ sku: 'A', quantity: 3 }], at },
      ],
      backorder: {
        lines: [{ sku: 'A', quantity: 2 }],
        since: at,
        expiresAt: at,
        cancelledLines: [{ sku: 'A', quantity: 1 }],
      },
      shipments: [{ status: 'DELIVERED', allocationId: 'A1', invoiceNumber: 'INV-2026-000001' }],
    });
    expect(quantities).toEqual([
      { sku: 'A', ordered: 10, reserved: 3, backordered: 2, shipped: 4, delivered: 4, invoiced: 4, cancelled: 1 },
    ]);
  });

  it('counts one shipment of the whole order (no allocation id) as carrying every allocation', () => {
    const quantities = lineQuantities({
      status: 'COMPLETED',
      requestedLines: [{ sku: 'A', quantity: 30, unitPrice: 1 }],
      allocations: [
        { allocationId: 'A1', warehouseId: 'WH-BERLIN', lines: [{ sku: 'A', quantity: 15 }], at },
        { allocationId: 'A2', warehouseId: 'WH-ROTTERDAM', lines: [{ sku: 'A', quantity: 10 }], at },
        { allocationId: 'A3', warehouseId: 'WH-BERLIN', lines: [{ sku: 'A', quantity: 5 }], at },
      ],
      backorder: { lines: [], since: at, expiresAt: at },
      invoice: { number: 'INV-2026-000002', total: 30 } as never,
      shipments: [{ status: 'DELIVERED' }],
    });
    expect(quantities).toEqual([
      { sku: 'A', ordered: 30, reserved: 0, backordered: 0, shipped: 30, delivered: 30, invoiced: 30, cancelled: 0 },
    ]);
  });
});

describe('one reservation transaction per order (100 items at most)', () => {
  const request = (count: number, fulfilmentPolicy?: 'all_or_nothing' | 'ship_available') => ({
    customerId: 'CUST-1002',
    currency: 'EUR',
    lines: Array.from({ length: count }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1, unitPrice: 100 })),
    shippingAddress: { name: 'Jane', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
    payment: { method: 'card', token: 'tok_visa' },
    ...(fulfilmentPolicy ? { fulfilmentPolicy } : {}),
  });
  const issues = (body: unknown) => {
    const result = OrderRequest.safeParse(body);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('allows as many lines as fit when every line is split over both warehouses (and backordered)', () => {
    expect(maxLinesFor('all_or_nothing')).toBe(49);
    expect(maxLinesFor('ship_available')).toBe(32);
    expect(reservationItems(49, 'all_or_nothing')).toBeLessThanOrEqual(TRANSACTION_ITEM_LIMIT);
    expect(reservationItems(50, 'all_or_nothing')).toBeGreaterThan(TRANSACTION_ITEM_LIMIT);
    expect(reservationItems(33, 'ship_available')).toBeGreaterThan(TRANSACTION_ITEM_LIMIT);
  });

  it('refuses a larger order at validation, naming the lines and the limit', () => {
    expect(issues(request(49))).toEqual([]);
    expect(issues(request(50))).toEqual([
      'lines: must contain at most 49 lines with fulfilmentPolicy all_or_nothing (the stock is reserved in one transaction)',
    ]);
    expect(issues(request(32, 'ship_available'))).toEqual([]);
    expect(issues(request(33, 'ship_available'))).toEqual([
      'lines: must contain at most 32 lines with fulfilmentPolicy ship_available (the stock is reserved in one transaction)',
    ]);
  });
});
