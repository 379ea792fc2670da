import { describe, expect, it } from 'vitest';
import { kpisOf, npsGroupOf, npsOf, type OrderFacts, percentile } from '../../functions/core/kpi-figures.ts';

describe('percentiles (nearest rank)', () => {
  it('picks the value at rank ceil(p × n) of the sorted values', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2); // rank 2 of 1,2,3,4
    expect(percentile([4, 1, 3, 2], 90)).toBe(4); // rank ceil(3.6) = 4
    const tens = Array.from({ length: 10 }, (_, i) => (i + 1) * 10); // 10..100
    expect(percentile(tens, 50)).toBe(50);
    expect(percentile(tens, 90)).toBe(90);
    expect(percentile(tens, 91)).toBe(100);
    expect(percentile(tens, 0)).toBe(10);
  });
});

describe('NPS', () => {
  it('groups 9-10 as promoters, 7-8 passives, 0-6 detractors, and refuses anything else', () => {
    expect([10, 9, 8, 7, 6, 0].map(npsGroupOf)).toEqual([
      'promoter',
      'promoter',
      'passive',
      'passive',
      'detractor',
      'detractor',
    ]);
    for (const bad of [-1, 11, 7.5, Number.NaN]) expect(() => npsGroupOf(bad)).toThrow(RangeError);
  });

  it('is % promoters - % detractors, rounded to an integer (half away from zero)', () => {
    expect(npsOf([10, 9, 8, 3])).toEqual({ score: 25, promoters: 2, passives: 1, detractors: 1, responses: 4 });
    expect(npsOf([])).toEqual({ score: null, promoters: 0, passives: 0, detractors: 0, responses: 0 });
    expect(npsOf([10, 10, 0]).score).toBe(33); // 33.33
    expect(npsOf([10, 0, 0]).score).toBe(-33);
    expect(npsOf([10, 8, 8, 8, 8, 8, 8, 8]).score).toBe(13); // 12.5 -> 13
    expect(npsOf([0, 8, 8, 8, 8, 8, 8, 8]).score).toBe(-13); // -12.5 -> -13
    expect(npsOf([6, 6]).score).toBe(-100);
  });
});

describe('KPIs of a window (hand-computed)', () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 10, 2, 9, minutes)).toISOString();
  const completed = (n: number, minutes: number, extra: Partial<OrderFacts> = {}): OrderFacts => ({
    orderId: `ord-c${n}`,
    placedAt: at(0),
    currency: 'EUR',
    outcome: 'COMPLETED',
    completedAt: at(minutes),
    gross: 1000 * n,
    allLinesDelivered: true,
    promisedBy: '2026-11-03',
    deliveredAt: at(minutes),
    stageSeconds: { ReserveStock: n, IssueInvoice: 10 * n },
    ...extra,
  });
  // 6 completed (one in CHF, one cancelled in part so not every line delivered), 2 declined, 1 rejected, 1 in flight.
  const orders: OrderFacts[] = [
    completed(1, 10),
    completed(2, 20),
    completed(3, 30, { backordered: true }),
    completed(4, 40, { allLinesDelivered: false }),
    completed(5, 50, { deliveredAt: '2026-11-04T08:00:00.000Z' }), // late
    completed(6, 60, { currency: 'CHF', promisedBy: undefined }),
    { orderId: 'ord-f1', placedAt: at(0), currency: 'EUR', outcome: 'FAILED', reason: 'PaymentDeclined' },
    { orderId: 'ord-f2', placedAt: at(0), currency: 'EUR', outcome: 'FAILED', reason: 'PaymentDeclined' },
    { orderId: 'ord-r1', placedAt: at(0), currency: 'EUR', outcome: 'REJECTED', reason: 'OutOfStock' },
    { orderId: 'ord-i1', placedAt: at(0), currency: 'EUR', backordered: true },
  ];

  it('counts, money, cycle time, rates, reasons, stage latency and NPS as defined', () => {
    expect(kpisOf(orders, [10, 9, 8, 3])).toEqual({
      ordersPlaced: 10,
      ordersCompleted: 6,
      ordersRejected: 1,
      ordersCancelled: 0,
      ordersFailed: 2,
      ordersInFlight: 1,
      // EUR: 1000+2000+3000+4000+5000; CHF: 6000.
      revenue: { EUR: 15_000, CHF: 6000 },
      averageOrderValue: { EUR: 3000, CHF: 6000 },
      // Cycle times 600..3600 s: p50 rank 3 = 1800, p90 rank ceil(5.4) = 6 = 3600.
      cycleTimeSeconds: { p50: 1800, p90: 3600 },
      // 5 completed with every line delivered / (10 placed - 1 rejected).
      fulfilmentRate: 5 / 9,
      // 5 delivered with a promise (the CHF one has none), 4 of them by the end of the promised day.
      onTimeDeliveryRate: 4 / 5,
      backorderRate: 2 / 10,
      rejectionsByReason: { OutOfStock: 1 },
      failuresByReason: { PaymentDeclined: 2 },
      // ReserveStock 1..6 -> rank 3 = 3; IssueInvoice 10..60 -> 30.
      stageLatencySeconds: { ReserveStock: 3, IssueInvoice: 30 },
      nps: { score: 25, promoters: 2, passives: 1, detractors: 1, responses: 4 },
    });
  });

  it('narrows the money to one currency, and answers null rates for an empty window', () => {
    const chf = kpisOf(orders, [], 'CHF');
    expect(chf.revenue).toEqual({ CHF: 6000 });
    expect(chf.averageOrderValue).toEqual({ CHF: 6000 });
    expect(chf.ordersPlaced).toBe(10); // counts are over every order
    const empty = kpisOf([], []);
    expect(empty).toMatchObject({
      ordersPlaced: 0,
      revenue: {},
      cycleTimeSeconds: { p50: null, p90: null },
      fulfilmentRate: null,
      onTimeDeliveryRate: null,
      backorderRate: null,
      nps: { score: null, responses: 0 },
    });
  });

  it('rounds the average order value half up to a minor unit', () => {
    const two = [completed(1, 10, { gross: 1001 }), completed(2, 10, { gross: 1000 })];
    expect(kpisOf(two, []).averageOrderValue).toEqual({ EUR: 1001 }); // 1000.5 -> 1001
  });
});
