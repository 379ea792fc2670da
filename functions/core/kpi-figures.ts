/**
 * The KPI definitions, as pure functions over what the KPI projection knows of each order placed in a
 * window and of the satisfaction answers. The definitions are part of the API's contract:
 *
 * - placed, completed, rejected, cancelled, failed: orders placed in the window, by outcome; in flight:
 *   no outcome yet.
 * - revenue: the gross total of completed orders, per currency, in minor units; average order value:
 *   revenue / completed orders of that currency, rounded half up to a minor unit.
 * - cycle time: placed to completed, over completed orders, p50 and p90 (nearest rank), in seconds.
 * - fulfilment rate: completed with every line delivered / (placed - rejected).
 * - on-time delivery rate: delivered by the promised date / delivered orders that carry a promise.
 * - backorder rate: orders with any backordered quantity / placed.
 * - stage latency: p50 per stage, in seconds.
 * - NPS: 9-10 promoter, 7-8 passive, 0-6 detractor; % promoters - % detractors, rounded to an integer.
 *
 * A rate without a denominator (nothing placed, nothing delivered) is null, as is the NPS without answers.
 */

export type Outcome = 'COMPLETED' | 'REJECTED' | 'CANCELLED' | 'FAILED';

export interface OrderFacts {
  orderId: string;
  placedAt: string;
  currency: string;
  /** Absent while the order is in flight. */
  outcome?: Outcome;
  /** When it completed (COMPLETED). */
  completedAt?: string;
  /** Gross total of a completed order, minor units. */
  gross?: number;
  /** Every line delivered in full. */
  allLinesDelivered?: boolean;
  /** The delivery date promised to the customer (ISO date or date-time). */
  promisedBy?: string;
  /** When its last delivery was confirmed. */
  deliveredAt?: string;
  /** Any quantity was backordered. */
  backordered?: boolean;
  /** The rejection or failure code (REJECTED, FAILED). */
  reason?: string;
  /** Seconds each stage took, by stage name. */
  stageSeconds?: Record<string, number>;
}

export interface Kpis {
  ordersPlaced: number;
  ordersCompleted: number;
  ordersRejected: number;
  ordersCancelled: number;
  ordersFailed: number;
  ordersInFlight: number;
  revenue: Record<string, number>;
  averageOrderValue: Record<string, number>;
  cycleTimeSeconds: { p50: number | null; p90: number | null };
  fulfilmentRate: number | null;
  onTimeDeliveryRate: number | null;
  backorderRate: number | null;
  rejectionsByReason: Record<string, number>;
  failuresByReason: Record<string, number>;
  stageLatencySeconds: Record<string, number>;
  nps: Nps;
}

export interface Nps {
  score: number | null;
  promoters: number;
  passives: number;
  detractors: number;
  responses: number;
}

/** The nearest-rank percentile (p in 0..100) of the values; null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? null;
}

export type NpsGroup = 'promoter' | 'passive' | 'detractor';
export function npsGroupOf(score: number): NpsGroup {
  if (!Number.isInteger(score) || score < 0 || score > 10) throw new RangeError('An NPS score is a whole number 0-10');
  return score >= 9 ? 'promoter' : score >= 7 ? 'passive' : 'detractor';
}

export function npsOf(scores: readonly number[]): Nps {
  const count = (group: NpsGroup) => scores.filter((s) => npsGroupOf(s) === group).length;
  return npsOfCounts(count('promoter'), count('passive'), count('detractor'));
}

/** The NPS of the answers counted by group. */
export function npsOfCounts(promoters: number, passives: number, detractors: number): Nps {
  const responses = promoters + passives + detractors;
  // Integer arithmetic before the one rounding: 100 * (P - D) / N, half away from zero.
  const score = responses === 0 ? null : roundHalfAway((100 * (promoters - detractors)) / responses);
  return { score, promoters, passives, detractors, responses };
}

const roundHalfAway = (value: number) => Math.sign(value) * Math.round(Math.abs(value));
const ratio = (numerator: number, denominator: number) => (denominator === 0 ? null : numerator / denominator);
const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;
const tally = (keys: readonly string[]) =>
  keys.reduce<Record<string, number>>((counts, key) => {
    counts[key] = (counts[key] ?? 0) + 1;
    return counts;
  }, {});

/** The KPIs of the orders placed in a window and the answers given in it; `currency` narrows the money figures. */
export function kpisOf(orders: readonly OrderFacts[], scores: readonly number[], currency?: string): Kpis {
  const by = (outcome: Outcome) => orders.filter((o) => o.outcome === outcome);
  const completed = by('COMPLETED');
  const rejected = by('REJECTED');
  const failed = by('FAILED');

  const revenue: Record<string, number> = {};
  const completedIn: Record<string, number> = {};
  for (const order of completed) {
    if (currency !== undefined && order.currency !== currency) continue;
    revenue[order.currency] = (revenue[order.currency] ?? 0) + (order.gross ?? 0);
    completedIn[order.currency] = (completedIn[order.currency] ?? 0) + 1;
  }
  const averageOrderValue = Object.fromEntries(
    Object.entries(revenue).map(([code, total]) => [code, Math.round(total / (completedIn[code] ?? 1))]),
  );

  const cycles = completed.filter((o) => o.completedAt).map((o) => seconds(o.placedAt, o.completedAt as string));
  const promised = orders.filter((o) => o.deliveredAt && o.promisedBy);
  const inTime = promised.filter((o) => onTime(o.deliveredAt as string, o.promisedBy as string));

  const stageValues: Record<string, number[]> = {};
  for (const order of orders) {
    for (const [stage, value] of Object.entries(order.stageSeconds ?? {})) {
      const values = stageValues[stage] ?? [];
      values.push(value);
      stageValues[stage] = values;
    }
  }

  return {
    ordersPlaced: orders.length,
    ordersCompleted: completed.length,
    ordersRejected: rejected.length,
    ordersCancelled: by('CANCELLED').length,
    ordersFailed: failed.length,
    ordersInFlight: orders.filter((o) => o.outcome === undefined).length,
    revenue,
    averageOrderValue,
    cycleTimeSeconds: { p50: percentile(cycles, 50), p90: percentile(cycles, 90) },
    fulfilmentRate: ratio(completed.filter((o) => o.allLinesDelivered).length, orders.length - rejected.length),
    onTimeDeliveryRate: ratio(inTime.length, promised.length),
    backorderRate: ratio(orders.filter((o) => o.backordered).length, orders.length),
    rejectionsByReason: tally(rejected.map((o) => o.reason ?? 'Unknown')),
    failuresByReason: tally(failed.map((o) => o.reason ?? 'Unknown')),
    stageLatencySeconds: Object.fromEntries(
      Object.entries(stageValues).map(([stage, values]) => [stage, percentile(values, 50) as number]),
    ),
    nps: npsOf(scores),
  };
}

/** Delivered by the promise: a promised date means the whole day (UTC); a date-time means that instant. */
export function onTime(deliveredAt: string, promise: string): boolean {
  return Date.parse(deliveredAt) <= endOf(promise);
}

function endOf(promise: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(promise) ? Date.parse(`${promise}T23:59:59.999Z`) : Date.parse(promise);
}
