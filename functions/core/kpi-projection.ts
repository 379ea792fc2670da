import type { DetailType, EVENT_CATALOG, EventDetail } from './event-catalog.ts';
import { ORDER_EVENTS, type OrderEvent } from './events.ts';
import { type Kpis, kpisOf, npsOfCounts, type OrderFacts, type Outcome, onTime } from './kpi-figures.ts';

/**
 * The KPI projection: how each domain event changes what the KPI table knows (pure; the DynamoDB
 * adapter, adapters/kpi-repository.ts, only writes what this decides).
 *
 * - One facts item per order (`ORDER#<orderId>`). Every change is a transition guarded by an attribute
 *   it sets once (`outcome`, `deliveredAt`, ...): it happens when that attribute is absent, never again.
 *   So any subset of the events, in any order, any number of times, gives the same item.
 * - Counters per placed day, sharded (`DAY#<day>#<shard>`, the shard a hash of the order id, so a busy
 *   day's writes spread over KPI_SHARDS items): a transition adds to them in the same transaction as its
 *   guarded write, so a duplicate never counts twice. Survey answers likewise, by the answered order's
 *   placed day (`NPS#...`).
 * - Stage times (`stageTimes.<stage>`, the earliest time of each stage over its facts, e.g. the first
 *   of several shipments) give the stage latencies; the facts of a window are read through the
 *   `byPlacedDay` index (attribute `dayShard`) for percentiles. `events` holds the event ids whose
 *   stage was recorded, so each fact emits its SecondsToStage point once.
 */
export const KPI_SHARDS = 16;

/**
 * The facts attributes the window's percentiles read (GET /kpis): the index projects these only, and
 * the query asks for these only.
 */
export const WINDOW_ATTRIBUTES = ['orderId', 'placedAt', 'currency', 'outcome', 'completedAt', 'stageTimes'] as const;

/**
 * The happy path in the order the README's lifecycle shows (capture and invoice at dispatch, then the
 * delivery): a stage's latency (GET /kpis) is the time since the latest earlier stage the order has.
 */
export const HAPPY_PATH = [
  'OrderValidated',
  'OrderStockReserved',
  'OrderPaymentAuthorized',
  'OrderShipped',
  'OrderPaymentCaptured',
  'OrderInvoiced',
  'OrderDelivered',
  'OrderCompleted',
] as const satisfies readonly OrderEvent[];

export interface MetricPoint {
  name: string;
  unit: 'Count' | 'Seconds' | 'None';
  value: number;
  /** Extra dimensions besides `service` (currency, stage, group). */
  dimensions?: Record<string, string>;
}

/** A write that happens once: `set` (which includes `guard`) is written when the item has no `guard`. */
export interface Transition {
  key: string;
  guard: string;
  set: Record<string, unknown>;
  /** Added in the same transaction, so only when the guarded write happens. */
  counter?: { key: string; add: Record<string, number> };
  /** Emitted when it happened (once per fact). */
  metrics: MetricPoint[];
  /**
   * The event's stage, recorded by the same write when it happens (its time set, its event marked): the
   * event's own transition carries it, else the placing (whose `set` then holds the time in `stageTimes`).
   */
  stage?: StageTime;
}

/**
 * A fact's stage time on the order's facts (after the facts exist): kept when earlier than the stored
 * one, so the stored time is the earliest of the stage's facts whatever their order. `eventId` marks
 * the fact recorded; its metrics are emitted the first time only.
 */
export interface StageTime {
  key: string;
  stage: OrderEvent;
  /** ISO instant, normalised (toISOString), so the stored times compare as strings. */
  at: string;
  eventId: string;
  metrics: MetricPoint[];
}

export interface Fold {
  /** The item every transition of the event writes (the order's facts, or its survey answer). */
  key: string;
  transitions: Transition[];
  stage?: StageTime;
  /**
   * The event adds nothing to the facts but its stage, and usually finds them made: an event of the order
   * after its receipt, with no transition besides the placing (validated, reserved, authorized, captured,
   * invoiced). Its stage is tried first with the single write that needs existing facts; only a refused
   * write (no facts yet, a known event, an earlier time stored) takes the whole fold.
   */
  stageFirst?: boolean;
}

/** FNV-1a: a stable, well-spread hash of the order id (the same shard in every process). */
export function shardOf(orderId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < orderId.length; i++) {
    hash ^= orderId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % KPI_SHARDS;
}

/** The UTC day of an instant. */
export const dayOf = (instant: string): string => new Date(Date.parse(instant)).toISOString().slice(0, 10);

export const factsKey = (orderId: string) => `ORDER#${orderId}`;
export const feedbackKey = (orderId: string) => `FEEDBACK#${orderId}`;
export const dayShardOf = (day: string, shard: number) => `DAY#${day}#${shard}`;
export const npsShardOf = (day: string, shard: number) => `NPS#${day}#${shard}`;

const count = (name: string, dimensions?: Record<string, string>): MetricPoint => ({
  name,
  unit: 'Count',
  value: 1,
  ...(dimensions ? { dimensions } : {}),
});
const secondsBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

const OUTCOME_OF = {
  OrderRejected: { outcome: 'REJECTED', counter: 'rejected', metric: 'OrdersRejected' },
  OrderFailed: { outcome: 'FAILED', counter: 'failed', metric: 'OrdersFailed' },
  OrderCancelled: { outcome: 'CANCELLED', counter: 'cancelled', metric: 'OrdersCancelled' },
} as const;

/** What one event (its detail checked against the catalog) changes in the projection. */
export function foldEvent<T extends DetailType>(detailType: T, detail: EventDetail<T>): Fold {
  if (detailType === 'FeedbackReceived') {
    const answer = detail as EventDetail<'FeedbackReceived'>;
    // Counted with the orders placed that day: the KPIs are about the orders placed in the window.
    const day = dayOf(answer.placedAt);
    return {
      key: feedbackKey(answer.orderId),
      transitions: [
        {
          key: feedbackKey(answer.orderId),
          guard: 'score',
          set: { orderId: answer.orderId, score: answer.score, group: answer.group, answeredAt: answer.occurredAt },
          counter: { key: npsShardOf(day, shardOf(answer.orderId)), add: { [answer.group]: 1 } },
          metrics: [count('FeedbackResponses', { group: answer.group })],
        },
      ],
    };
  }
  const event = detail as EventDetail<OrderEvent>;
  const key = factsKey(event.orderId);
  const counterKey = dayShardOf(dayOf(event.placedAt), shardOf(event.orderId));
  const transitions: Transition[] = [
    {
      key,
      guard: 'placedAt',
      set: {
        orderId: event.orderId,
        placedAt: event.placedAt,
        currency: event.currency,
        dayShard: counterKey,
        stageTimes: {},
      },
      counter: { key: counterKey, add: { placed: 1 } },
      metrics: [count('OrdersReceived')],
    },
  ];
  const once = (guard: string, set: Record<string, unknown>, add: Record<string, number>, metrics: MetricPoint[]) =>
    transitions.push({
      key,
      guard,
      set,
      ...(Object.keys(add).length > 0 ? { counter: { key: counterKey, add } } : {}),
      metrics,
    });

  switch (detailType) {
    case 'OrderBackordered': {
      const backordered = detail as EventDetail<'OrderBackordered'>;
      once(
        'backordered',
        { backordered: true, backorderedQuantity: backordered.backorderedQuantity },
        { backordered: 1 },
        [count('OrdersBackordered')],
      );
      break;
    }
    case 'OrderShipped':
      // Once per order, whichever shipment comes first (the earliest time is in stageTimes).
      once('shipped', { shipped: true }, {}, [count('OrdersShipped')]);
      break;
    case 'OrderDelivered': {
      const delivered = detail as EventDetail<'OrderDelivered'>;
      const promise = delivered.promisedDeliveryDate;
      const inTime = promise !== undefined && onTime(delivered.deliveredAt, promise);
      const metrics = [count('OrdersDelivered')];
      if (promise !== undefined) metrics.push(count(inTime ? 'DeliveriesOnTime' : 'DeliveriesLate'));
      once(
        'deliveredAt',
        { deliveredAt: delivered.deliveredAt, ...(promise !== undefined ? { promisedBy: promise } : {}) },
        { delivered: 1, ...(promise !== undefined ? { promised: 1 } : {}), ...(inTime ? { onTime: 1 } : {}) },
        metrics,
      );
      break;
    }
    case 'OrderCompleted': {
      const completed = detail as EventDetail<'OrderCompleted'>;
      const metrics = [
        count('OrdersCompleted'),
        { name: 'OrderCycleTime', unit: 'Seconds', value: secondsBetween(event.placedAt, event.occurredAt) },
        // Major units of the order's currency, one series per currency.
        { name: 'Revenue', unit: 'None', value: completed.gross / 100, dimensions: { currency: event.currency } },
      ] satisfies MetricPoint[];
      if (completed.allLinesDelivered) metrics.push(count('OrdersFulfilled'));
      once(
        'outcome',
        {
          outcome: 'COMPLETED' satisfies Outcome,
          completedAt: event.occurredAt,
          gross: completed.gross,
          allLinesDelivered: completed.allLinesDelivered,
        },
        {
          completed: 1,
          [`revenue#${event.currency}`]: completed.gross,
          [`completed#${event.currency}`]: 1,
          ...(completed.allLinesDelivered ? { fulfilled: 1 } : {}),
        },
        metrics,
      );
      break;
    }
    case 'OrderRejected':
    case 'OrderFailed':
    case 'OrderCancelled': {
      const closing = OUTCOME_OF[detailType as keyof typeof OUTCOME_OF];
      const reason = (detail as EventDetail<'OrderFailed'>).failureCode;
      once(
        'outcome',
        { outcome: closing.outcome, reason },
        { [closing.counter]: 1, ...(detailType === 'OrderCancelled' ? {} : { [`${closing.counter}#${reason}`]: 1 }) },
        [count(closing.metric)],
      );
      break;
    }
  }
  const stage = (ORDER_EVENTS as readonly string[]).includes(detailType)
    ? {
        key,
        stage: detailType as OrderEvent,
        at: new Date(Date.parse(event.occurredAt)).toISOString(),
        eventId: event.eventId,
        metrics: secondsToStageMetrics(event.placedAt, event.occurredAt, detailType as OrderEvent),
      }
    : undefined;
  // Every fact of a stage passes the event's own transition (else the placing) before its stage is recorded,
  // so while that transition's guard is absent no fact of the stage is recorded: its write records this one.
  const carrier = transitions.at(-1);
  if (stage && carrier) {
    carrier.stage = stage;
    if (carrier === transitions[0]) carrier.set.stageTimes = { [stage.stage]: stage.at };
  }
  // The facts exist only once the placing's transition made them (every other write comes after it, or
  // needs them), so a stage recorded on existing facts leaves nothing of this event's fold undone.
  const stageFirst = stage !== undefined && transitions.length === 1 && detailType !== 'OrderReceived';
  return { key, transitions, ...(stage ? { stage } : {}), ...(stageFirst ? { stageFirst } : {}) };
}

/**
 * SecondsToStage: seconds from placing the order to this fact of a happy-path stage (each shipment's
 * OrderShipped is a point). A function of the event alone, so the points do not depend on the order
 * in which the events arrive; emitted once per fact (event id).
 */
export function secondsToStageMetrics(placedAt: string, occurredAt: string, stage: OrderEvent): MetricPoint[] {
  if (!(HAPPY_PATH as readonly string[]).includes(stage)) return [];
  const value = Math.max(0, secondsBetween(placedAt, occurredAt));
  return [{ name: 'SecondsToStage', unit: 'Seconds', value, dimensions: { stage } }];
}

/**
 * The stored facts of an order (what the KPI table's facts item holds): the KPI definitions' facts,
 * with the first time of each stage instead of the stage latencies derived from them.
 */
export type StoredFacts = Omit<OrderFacts, 'stageSeconds'> & { stageTimes?: Record<string, string> };

/**
 * Seconds per stage of the happy path: from the latest earlier stage the order has (its placing for
 * the first) to it. From the first times only, so independent of the order the events came in.
 */
export function stageSecondsOf(placedAt: string, stageTimes: Record<string, string>): Record<string, number> {
  const seconds: Record<string, number> = {};
  let previous = placedAt;
  for (const stage of HAPPY_PATH) {
    const at = stageTimes[stage];
    if (at === undefined) continue;
    seconds[stage] = Math.max(0, secondsBetween(previous, at));
    previous = at;
  }
  return seconds;
}

/** The facts as the KPI definitions (core/kpi-figures.ts) take them. */
export function orderFactsOf(stored: StoredFacts): OrderFacts {
  const optional = <K extends keyof StoredFacts>(name: K) =>
    stored[name] === undefined ? {} : { [name]: stored[name] };
  return {
    orderId: stored.orderId,
    placedAt: stored.placedAt,
    currency: stored.currency,
    ...optional('outcome'),
    ...optional('completedAt'),
    ...optional('gross'),
    ...optional('allLinesDelivered'),
    ...optional('promisedBy'),
    ...optional('deliveredAt'),
    ...optional('backordered'),
    ...optional('reason'),
    stageSeconds: stageSecondsOf(stored.placedAt, stored.stageTimes ?? {}),
  };
}

/** Every UTC day from `from` to `to` inclusive. */
export function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= Date.parse(`${to}T00:00:00Z`); at += 86_400_000)
    days.push(new Date(at).toISOString().slice(0, 10));
  return days;
}

/** The counter items of the days, every shard. */
export const counterKeysOf = (days: readonly string[], of: (day: string, shard: number) => string) =>
  days.flatMap((day) => Array.from({ length: KPI_SHARDS }, (_, shard) => of(day, shard)));

const sumOf = (items: readonly Record<string, unknown>[]) => {
  const sums: Record<string, number> = {};
  for (const item of items)
    for (const [name, value] of Object.entries(item))
      if (typeof value === 'number') sums[name] = (sums[name] ?? 0) + value;
  return sums;
};

const byPrefix = (sums: Record<string, number>, prefix: string) =>
  Object.fromEntries(
    Object.entries(sums)
      .filter(([name, value]) => name.startsWith(prefix) && value !== 0)
      .map(([name, value]) => [name.slice(prefix.length), value]),
  );

/**
 * The KPIs from the projection: the counts, money and rates from the day counters, the percentiles
 * (cycle time, stage latency) from the facts of the window, the NPS from the answer counters. The
 * same definitions as kpisOf over the same orders (a property test holds them equal).
 */
export function kpisOfProjection(
  dayCounters: readonly Record<string, unknown>[],
  npsCounters: readonly Record<string, unknown>[],
  facts: readonly OrderFacts[],
  currency?: string,
): Kpis {
  const sums = sumOf(dayCounters);
  const n = (name: string) => sums[name] ?? 0;
  const ratio = (numerator: number, denominator: number) => (denominator === 0 ? null : numerator / denominator);
  const revenue = byPrefix(sums, 'revenue#');
  const completedIn = byPrefix(sums, 'completed#');
  for (const code of Object.keys(revenue)) if (currency !== undefined && code !== currency) delete revenue[code];
  // A completed order of 0 gross still counts towards its currency's average.
  for (const code of Object.keys(completedIn))
    if ((currency === undefined || code === currency) && revenue[code] === undefined) revenue[code] = 0;
  const closed = n('completed') + n('rejected') + n('cancelled') + n('failed');
  const fromFacts = kpisOf(facts, [], currency);
  const nps = sumOf(npsCounters);
  return {
    ordersPlaced: n('placed'),
    ordersCompleted: n('completed'),
    ordersRejected: n('rejected'),
    ordersCancelled: n('cancelled'),
    ordersFailed: n('failed'),
    ordersInFlight: n('placed') - closed,
    revenue,
    averageOrderValue: Object.fromEntries(
      Object.entries(revenue).map(([code, total]) => [code, Math.round(total / (completedIn[code] ?? 1))]),
    ),
    cycleTimeSeconds: fromFacts.cycleTimeSeconds,
    fulfilmentRate: ratio(n('fulfilled'), n('placed') - n('rejected')),
    onTimeDeliveryRate: ratio(n('onTime'), n('promised')),
    backorderRate: ratio(n('backordered'), n('placed')),
    rejectionsByReason: byPrefix(sums, 'rejected#'),
    failuresByReason: byPrefix(sums, 'failed#'),
    stageLatencySeconds: fromFacts.stageLatencySeconds,
    nps: npsOfCounts(nps.promoter ?? 0, nps.passive ?? 0, nps.detractor ?? 0),
  };
}

/** The detail-types the projection folds: the KPI rule subscribes to exactly these. */
export const KPI_EVENT_TYPES = [
  'OrderReceived',
  'OrderValidated',
  'OrderStockReserved',
  'OrderBackordered',
  'OrderPaymentAuthorized',
  'OrderShipped',
  'OrderDelivered',
  'OrderPaymentCaptured',
  'OrderInvoiced',
  'OrderCompleted',
  'OrderRejected',
  'OrderFailed',
  'OrderCancelled',
  'FeedbackReceived',
] as const satisfies readonly (keyof typeof EVENT_CATALOG)[];
