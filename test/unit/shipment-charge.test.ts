import { describe, expect, it } from 'vitest';
import { totalsOf } from '../../functions/core/pricing.ts';
import type { Allocation, PricedLine } from '../../functions/core/schemas.ts';
import { shipmentCharge } from '../../functions/core/shipment.ts';
import { taxOn } from '../../functions/core/tax.ts';

/** A priced line as pricing makes it: net after discount, informative tax on the line's net. */
function line(sku: string, quantity: number, unitPrice: number, rate: number, discountBasisPoints = 0): PricedLine {
  const gross = quantity * unitPrice;
  const lineDiscount = Math.round((gross * discountBasisPoints) / 10_000);
  const lineSubtotal = gross - lineDiscount;
  return {
    sku,
    name: sku,
    quantity,
    unitPrice,
    taxCategory: rate === 1900 ? 'standard' : rate === 700 ? 'reduced' : 'zero',
    taxRateBasisPoints: rate,
    discountBasisPoints,
    lineDiscount,
    lineSubtotal,
    lineTax: taxOn(lineSubtotal, rate),
  };
}

const allocation = (allocationId: string, lines: { sku: string; quantity: number }[]): Allocation => ({
  allocationId,
  warehouseId: 'WH-BERLIN',
  lines,
  at: '2026-01-01T00:00:00.000Z',
});

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return (below: number) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * below);
  };
}

/** Every ordered unit split over 1..4 allocations, in random portions. */
function randomOrder(seed: number) {
  const next = random(seed);
  const rates = [1900, 700, 0];
  const lines = Array.from({ length: 1 + next(4) }, (_, i) =>
    line(`SKU-${i}`, 1 + next(9), 1 + next(20_000), rates[next(3)] as number, [0, 500, 1250, 333][next(4)]),
  );
  const count = 1 + next(4);
  const split: { sku: string; quantity: number }[][] = Array.from({ length: count }, () => []);
  for (const l of lines) {
    let left = l.quantity;
    for (let k = 0; k < count && left > 0; k++) {
      const quantity = k === count - 1 ? left : next(left + 1);
      if (quantity > 0) split[k]?.push({ sku: l.sku, quantity });
      left -= quantity;
    }
  }
  const allocations = split.filter((s) => s.length > 0).map((s, k) => allocation(`A${k + 1}`, s));
  return { orderId: `ord-${seed}`, lines, totals: totalsOf(lines), allocations };
}

describe('shipmentCharge (a shipment priced as on the order)', () => {
  it('splits three units of 3.33 + 19 % to the cent, the running sums taking the rounding', () => {
    const lines = [line('WIDGET', 3, 333, 1900)];
    const order = {
      orderId: 'ord-1',
      lines,
      allocations: [
        allocation('A1', [{ sku: 'WIDGET', quantity: 1 }]),
        allocation('A2', [{ sku: 'WIDGET', quantity: 1 }]),
        allocation('A3', [{ sku: 'WIDGET', quantity: 1 }]),
      ],
    };
    const charges = ['A1', 'A2', 'A3'].map((id) => shipmentCharge(order, id));
    // The order: net 999, VAT 189.81 -> 190, total 1189.
    expect(totalsOf(lines)).toMatchObject({ subtotal: 999, tax: 190, total: 1189 });
    // Each invoice: 333 net; its VAT is the running VAT with it minus the running VAT without it.
    expect(charges.map((c) => c.totals.subtotal)).toEqual([333, 333, 333]);
    expect(charges.map((c) => c.totals.tax)).toEqual([
      taxOn(333, 1900),
      taxOn(666, 1900) - taxOn(333, 1900),
      taxOn(999, 1900) - taxOn(666, 1900),
    ]);
    expect(charges.reduce((sum, c) => sum + c.totals.total, 0)).toBe(1189);
    expect(charges[0]?.lines).toEqual([expect.objectContaining({ sku: 'WIDGET', quantity: 1, lineSubtotal: 333 })]);
    expect(charges[0]?.totals.taxByRate).toEqual([{ rateBasisPoints: 1900, net: 333, tax: taxOn(333, 1900) }]);
  });

  it('adds the invoices up to the order to the cent: lines, discounts, VAT per rate and total', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const order = randomOrder(seed);
      const charges = order.allocations.map((a) => shipmentCharge(order, a.allocationId));
      const sum = (pick: (c: (typeof charges)[number]) => number) => charges.reduce((s, c) => s + pick(c), 0);
      const context = `seed ${seed}`;
      expect(
        sum((c) => c.totals.subtotal),
        context,
      ).toBe(order.totals.subtotal);
      expect(
        sum((c) => c.totals.tax),
        context,
      ).toBe(order.totals.tax);
      expect(
        sum((c) => c.totals.total),
        context,
      ).toBe(order.totals.total);
      expect(
        sum((c) => c.totals.discount),
        context,
      ).toBe(order.totals.discount);
      for (const rate of order.totals.taxByRate ?? []) {
        const atRate = charges
          .flatMap((c) => c.totals.taxByRate ?? [])
          .filter((r) => r.rateBasisPoints === rate.rateBasisPoints);
        expect(
          atRate.reduce((s, r) => s + r.net, 0),
          context,
        ).toBe(rate.net);
        expect(
          atRate.reduce((s, r) => s + r.tax, 0),
          context,
        ).toBe(rate.tax);
      }
      for (const ordered of order.lines) {
        const shipped = charges.flatMap((c) => c.lines).filter((l) => l.sku === ordered.sku);
        expect(
          shipped.reduce((s, l) => s + l.quantity, 0),
          context,
        ).toBe(ordered.quantity);
        expect(
          shipped.reduce((s, l) => s + l.lineSubtotal, 0),
          context,
        ).toBe(ordered.lineSubtotal);
        expect(
          shipped.reduce((s, l) => s + l.lineDiscount, 0),
          context,
        ).toBe(ordered.lineDiscount);
        expect(
          shipped.reduce((s, l) => s + l.lineTax, 0),
          context,
        ).toBe(ordered.lineTax);
      }
      // Each invoice is consistent in itself: its total is its net plus its VAT per rate.
      for (const charge of charges) {
        const perRate = (charge.totals.taxByRate ?? []).reduce((s, r) => s + r.net + r.tax, 0);
        expect(charge.totals.total, context).toBe(perRate);
        expect(charge.totals.subtotal, context).toBe(charge.lines.reduce((s, l) => s + l.lineSubtotal, 0));
      }
    }
  });

  it('does not change a shipment’s charge when later allocations are added', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const order = randomOrder(seed);
      for (let k = 1; k <= order.allocations.length; k++) {
        const sofar = { ...order, allocations: order.allocations.slice(0, k) };
        for (const earlier of sofar.allocations) {
          expect(shipmentCharge(sofar, earlier.allocationId), `seed ${seed}, ${k} allocations`).toEqual(
            shipmentCharge(order, earlier.allocationId),
          );
        }
      }
    }
  });

  it('refuses an allocation the order does not have', () => {
    expect(() => shipmentCharge({ orderId: 'ord-2', lines: [], allocations: [] }, 'A1')).toThrow(
      'Order ord-2 has no allocation A1',
    );
  });
});
