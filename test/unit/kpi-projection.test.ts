import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DetailType, parseEventDetail } from '../../functions/core/event-catalog.ts';
import { LEDGER_EVENTS, orderEventDetail } from '../../functions/core/events.ts';
import { kpisOf, npsGroupOf } from '../../functions/core/kpi-figures.ts';
import {
  dayShardOf,
  foldEvent,
  KPI_EVENT_TYPES,
  KPI_SHARDS,
  kpisOfProjection,
  type MetricPoint,
  orderFactsOf,
  type StageTime,
  type StoredFacts,
  shardOf,
  stageSecondsOf,
} from '../../functions/core/kpi-projection.ts';

interface Event {
  type: DetailType;
  detail: Record<string, unknown>;
}
type Items = Map<string, Record<string, unknown>>;

/**
 * The projection's store semantics in memory, as the DynamoDB adapter and the handler implement them:
 * a transition writes when its guard is absent, with its counters; a stage time is kept when earlier
 * than the stored one, on existing facts, and its event is marked (its metrics are emitted once).
 * `optimized` (the handler's way): a stage-first event whose one write would be taken (made facts, a
 * new event, the earliest time) is that write alone, its transitions not looked at; a transition that
 * carries the event's stage records it when it happens. Without, every event is folded whole and its
 * stage recorded apart, as the handler first did.
 */
function project(events: readonly Event[], emitted: MetricPoint[] = [], optimized = true): Items {
  const items: Items = new Map();
  const record = (facts: Record<string, unknown>, stage: StageTime) => {
    const times = facts.stageTimes as Record<string, string>;
    const known = times[stage.stage];
    if (known === undefined || known > stage.at) times[stage.stage] = stage.at;
    const seen = (facts.events as string[] | undefined) ?? [];
    if (seen.includes(stage.eventId)) return;
    facts.events = [...seen, stage.eventId].sort();
    emitted.push(...stage.metrics);
  };
  for (const event of events) {
    const fold = foldEvent(event.type, parseEventDetail(event.type, event.detail));
    const made = fold.stage && items.get(fold.stage.key);
    if (optimized && fold.stageFirst && fold.stage && made) {
      const time = (made.stageTimes as Record<string, string>)[fold.stage.stage];
      const seen = (made.events as string[] | undefined) ?? [];
      if ((time === undefined || time > fold.stage.at) && !seen.includes(fold.stage.eventId)) {
        record(made, fold.stage);
        continue;
      }
    }
    let carried = false;
    for (const transition of fold.transitions) {
      const item = items.get(transition.key) ?? { pk: transition.key };
      if (item[transition.guard] !== undefined) continue;
      Object.assign(item, structuredClone(transition.set));
      items.set(transition.key, item);
      emitted.push(...transition.metrics);
      if (optimized && transition.stage) {
        // Its guard was absent: the stage has no time and the event is not marked (asserted, not assumed).
        expect((item.stageTimes as Record<string, string>)[transition.stage.stage]).toBe(
          'stageTimes' in transition.set ? transition.stage.at : undefined,
        );
        expect((item.events as string[] | undefined) ?? []).not.toContain(transition.stage.eventId);
        record(item, transition.stage);
        carried = true;
      }
      if (!transition.counter) continue;
      const counter = items.get(transition.counter.key) ?? { pk: transition.counter.key };
      for (const [name, value] of Object.entries(transition.counter.add))
        counter[name] = ((counter[name] as number | undefined) ?? 0) + value;
      items.set(transition.counter.key, counter);
    }
    const facts = fold.stage && items.get(fold.stage.key);
    if (fold.stage && facts && !carried) record(facts, fold.stage);
  }
  return items;
}

const sorted = (items: Items) => Object.fromEntries([...items.entries()].sort(([a], [b]) => a.localeCompare(b)));

const at = (base: number, minutes: number) => new Date(base + minutes * 60_000).toISOString();

type Kind = 'completed' | 'partial' | 'late' | 'rejected' | 'failed' | 'cancelled' | 'inFlight';

/** The events of one order's life, as the stages publish them (orderEventDetail + their extras). */
function lifeOf(n: number, kind: Kind, placed: number, currency: string, gross: number, score?: number): Event[] {
  const orderId = `ord-${String(n).padStart(26, '0')}`;
  const order = {
    orderId,
    customerId: 'C1',
    status: 'RECEIVED',
    channel: 'web',
    currency,
    createdAt: at(placed, 0),
    totals: { total: gross },
    promisedDeliveryDate: at(placed, 0).slice(0, 10),
  };
  const event = (
    type: DetailType & Parameters<typeof orderEventDetail>[1],
    minute: number,
    extra = {},
    id?: string,
  ) => ({
    type,
    detail: { ...orderEventDetail(order, type, at(placed, minute), id), ...extra },
  });
  const events: Event[] = [event('OrderReceived', 0), event('OrderValidated', 1, { total: gross })];
  if (kind === 'rejected') return [events[0] as Event, event('OrderRejected', 2, { failureCode: 'OutOfStock' })];
  if (kind === 'inFlight') return events;
  if (kind === 'cancelled')
    return [
      ...events,
      event('OrderCancellationRequested', 2, { kind: 'order' }),
      event('OrderCancelled', 3, { failureCode: 'CancelledByRequest' }),
    ];
  events.push(event('OrderStockReserved', 3));
  if (kind === 'failed') return [...events, event('OrderFailed', 4, { failureCode: 'PaymentDeclined' })];
  if (kind === 'partial')
    events.push(
      event('OrderBackordered', 3, { backorder: [{ sku: 'CABLE-USB-C', quantity: 2 }], backorderedQuantity: 2 }),
    );
  // A late delivery is reported two days after the promised day.
  const delivered = kind === 'late' ? 3 * 24 * 60 : 30;
  // Two shipments from two warehouses, each with its own times (the second leaves 7 minutes later).
  const perShipment = (shipment: number, later: number) => {
    const shipmentId = `${orderId}-${shipment}`;
    return [
      event('OrderShipped', 10 + later, { carrier: 'sandbox', shipmentId, warehouseId: `WH-${shipment}` }, shipmentId),
      event('OrderPaymentCaptured', 11 + later, { shipmentId, amount: gross }, shipmentId),
      event('OrderInvoiced', 12 + later, { shipmentId, invoiceNumber: `INV-${n}-${shipment}` }, shipmentId),
    ];
  };
  events.push(
    event('OrderPaymentAuthorized', 6),
    ...perShipment(1, 0),
    ...perShipment(2, 7),
    event('OrderDelivered', delivered, { deliveredAt: at(placed, delivered) }),
    event('OrderCompleted', delivered + 3, {
      gross,
      allLinesDelivered: kind !== 'partial',
      cycleTimeSeconds: (delivered + 3) * 60,
    }),
  );
  if (score !== undefined)
    events.push({
      type: 'FeedbackReceived',
      detail: {
        version: 1,
        eventId: `feedback:${orderId}`,
        orderId,
        customerId: 'C1',
        occurredAt: at(placed, delivered + 60),
        placedAt: order.createdAt,
        score,
        group: npsGroupOf(score),
      },
    });
  return events;
}

const orderArb = fc.record({
  kind: fc.constantFrom<Kind>('completed', 'partial', 'late', 'rejected', 'failed', 'cancelled', 'inFlight'),
  // Within one day, so the answers fall in the same window as the orders.
  minute: fc.integer({ min: 0, max: 12 * 60 }),
  currency: fc.constantFrom('EUR', 'USD'),
  gross: fc.integer({ min: 0, max: 1_000_000 }),
  score: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
});
const DAY = Date.parse('2026-11-29T00:00:00Z');

const lives = (orders: { kind: Kind; minute: number; currency: string; gross: number; score?: number }[]) =>
  orders.flatMap((o, n) => lifeOf(n, o.kind, DAY + o.minute * 60_000, o.currency, o.gross, o.score));

/** The facts, counters and answers of a projected store, as GET /kpis reads them. */
function figuresOf(items: Items, currency?: string) {
  const all = [...items.values()];
  const facts = all
    .filter((i) => String(i.pk).startsWith('ORDER#'))
    .map((i) => orderFactsOf(i as unknown as StoredFacts));
  const days = all.filter((i) => String(i.pk).startsWith('DAY#'));
  const nps = all.filter((i) => String(i.pk).startsWith('NPS#'));
  const scores = all.filter((i) => String(i.pk).startsWith('FEEDBACK#')).map((i) => i.score as number);
  return { facts, days, nps, scores, projected: kpisOfProjection(days, nps, facts, currency) };
}

/** A shuffle (Fisher-Yates over the generated seeds) plus repeats of some events. */
function rearranged(events: readonly Event[], seeds: Iterable<number>, duplicates: readonly number[]): Event[] {
  const shuffled = [...events];
  const stream = seeds[Symbol.iterator]();
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = (stream.next().value as number) % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j] as Event, shuffled[i] as Event];
  }
  return [...shuffled, ...duplicates.map((d) => events[d % events.length] as Event)];
}

const multiset = (points: readonly MetricPoint[]) => points.map((point) => JSON.stringify(point)).sort();

describe('KPI projection', () => {
  it('gives the same facts and counters for every order of a small event set', () => {
    const events = lifeOf(1, 'completed', DAY, 'EUR', 1234).slice(0, 6);
    const expected = sorted(project(events));
    const permutations = (list: Event[]): Event[][] =>
      list.length <= 1
        ? [list]
        : list.flatMap((first, i) =>
            permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((rest) => [first, ...rest]),
          );
    const all = permutations(events);
    expect(all).toHaveLength(720);
    for (const order of all) expect(sorted(project([...order, ...order.slice(0, 2)]))).toEqual(expected);
  });

  it('is order independent and idempotent: any order, any duplicates, the same facts and counters', () => {
    fc.assert(
      fc.property(
        fc.array(orderArb, { minLength: 1, maxLength: 6 }),
        fc.infiniteStream(fc.nat()),
        fc.array(fc.nat(), { maxLength: 10 }),
        (orders, seeds, duplicates) => {
          const events = lives(orders);
          const expected = sorted(project(events));
          expect(sorted(project(rearranged(events, seeds, duplicates)))).toEqual(expected);
          // The handler's shortcuts (a stage alone on made facts, a stage carried) leave what whole folds leave.
          expect(sorted(project(rearranged(events, seeds, duplicates), [], false))).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('any subset of the events, in any order, gives what that subset gives in order', () => {
    fc.assert(
      fc.property(
        fc.array(orderArb, { minLength: 1, maxLength: 4 }).chain((orders) => {
          const events = lives(orders);
          return fc.tuple(fc.constant(events), fc.shuffledSubarray(events), fc.shuffledSubarray(events));
        }),
        ([events, subset, again]) => {
          const inOrder = events.filter((e) => subset.includes(e));
          expect(sorted(project([...subset, ...again.filter((e) => subset.includes(e))]))).toEqual(
            sorted(project(inOrder)),
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('answers the KPI definitions (kpisOf) from its counters and facts', () => {
    fc.assert(
      fc.property(
        fc.array(orderArb, { maxLength: 12 }),
        fc.constantFrom(undefined, 'EUR', 'USD'),
        (orders, currency) => {
          const { facts, scores, projected } = figuresOf(project(lives(orders)), currency);
          expect(projected).toEqual(kpisOf(facts, scores, currency));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('counts a known set exactly', () => {
    const orders = [
      { kind: 'completed' as const, minute: 10, currency: 'EUR', gross: 1000, score: 10 },
      { kind: 'completed' as const, minute: 20, currency: 'EUR', gross: 2001, score: 3 },
      { kind: 'partial' as const, minute: 30, currency: 'EUR', gross: 500, score: 9 },
      { kind: 'late' as const, minute: 40, currency: 'USD', gross: 700 },
      { kind: 'rejected' as const, minute: 50, currency: 'EUR', gross: 1 },
      { kind: 'failed' as const, minute: 60, currency: 'EUR', gross: 1 },
      { kind: 'cancelled' as const, minute: 70, currency: 'EUR', gross: 1 },
      { kind: 'inFlight' as const, minute: 80, currency: 'EUR', gross: 1 },
    ];
    const { projected, days } = figuresOf(project(lives(orders)));
    expect(days.length).toBeLessThanOrEqual(KPI_SHARDS);
    expect(projected).toMatchObject({
      ordersPlaced: 8,
      ordersCompleted: 4,
      ordersRejected: 1,
      ordersCancelled: 1,
      ordersFailed: 1,
      ordersInFlight: 1,
      revenue: { EUR: 3501, USD: 700 },
      averageOrderValue: { EUR: 1167, USD: 700 },
      // Completed with every line delivered (not the partial one) / placed but not rejected.
      fulfilmentRate: 3 / 7,
      onTimeDeliveryRate: 3 / 4,
      backorderRate: 1 / 8,
      rejectionsByReason: { OutOfStock: 1 },
      failuresByReason: { PaymentDeclined: 1 },
      nps: { score: 33, promoters: 2, passives: 0, detractors: 1, responses: 3 },
    });
    expect(projected.cycleTimeSeconds).toEqual({ p50: 33 * 60, p90: (3 * 24 * 60 + 3) * 60 });
  });

  it('emits the same metric points whatever the order of arrival and the duplicates', () => {
    fc.assert(
      fc.property(
        fc.array(orderArb, { minLength: 1, maxLength: 5 }),
        fc.infiniteStream(fc.nat()),
        fc.array(fc.nat(), { maxLength: 10 }),
        (orders, seeds, duplicates) => {
          const events = lives(orders);
          const inOrder: MetricPoint[] = [];
          project(events, inOrder);
          const arrived: MetricPoint[] = [];
          project(rearranged(events, seeds, duplicates), arrived);
          expect(multiset(arrived)).toEqual(multiset(inOrder));
          const wholeFolds: MetricPoint[] = [];
          project(rearranged(events, seeds, duplicates), wholeFolds, false);
          expect(multiset(wholeFolds)).toEqual(multiset(inOrder));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('measures SecondsToStage from placing, once per fact (each shipment its own point)', () => {
    const emitted: MetricPoint[] = [];
    const events = lifeOf(1, 'completed', DAY, 'EUR', 1234);
    project([...events].reverse(), emitted);
    const seconds = (stage: string) =>
      emitted
        .filter((p) => p.name === 'SecondsToStage' && p.dimensions?.stage === stage)
        .map((p) => p.value)
        .sort((a, b) => a - b);
    expect(seconds('OrderShipped')).toEqual([600, 1020]);
    expect(seconds('OrderInvoiced')).toEqual([720, 1140]);
    expect(seconds('OrderDelivered')).toEqual([1800]);
    expect(seconds('OrderCompleted')).toEqual([1980]);
    // The stage time is the earliest shipment's, whichever came first.
    const facts = project([...events].reverse()).get(`ORDER#${events[0]?.detail.orderId}`);
    expect(facts?.stageTimes).toMatchObject({ OrderShipped: at(DAY, 10) });
    expect(emitted.some((p) => p.name === 'StageLatency')).toBe(false);
  });

  it('counts a survey answer with the orders placed on the answered order\u2019s day', () => {
    const [answer] = lifeOf(1, 'completed', DAY, 'EUR', 1234, 9).filter((e) => e.type === 'FeedbackReceived');
    const later = { ...(answer as Event), detail: { ...answer?.detail, occurredAt: '2026-12-03T08:00:00.000Z' } };
    const items = project([later]);
    const counters = [...items.keys()].filter((key) => key.startsWith('NPS#'));
    expect(counters).toEqual([`NPS#2026-11-29#${shardOf(String(answer?.detail.orderId))}`]);
  });

  it('spreads orders over the shards and measures each stage from the one before it', () => {
    const shards = new Set(Array.from({ length: 200 }, (_, n) => shardOf(`ord-${n}`)));
    expect([...shards].sort((a, b) => a - b)).toEqual(Array.from({ length: KPI_SHARDS }, (_, shard) => shard));
    expect(dayShardOf('2026-11-29', 3)).toBe('DAY#2026-11-29#3');
    expect(
      stageSecondsOf('2026-11-29T10:00:00Z', {
        OrderValidated: '2026-11-29T10:00:05Z',
        OrderShipped: '2026-11-29T10:01:05Z',
        OrderCompleted: '2026-11-29T10:02:00Z',
      }),
    ).toEqual({ OrderValidated: 5, OrderShipped: 60, OrderCompleted: 55 });
  });

  it('needs no ledger event: a credit note or a payment folds without error and changes no figure', () => {
    for (const type of LEDGER_EVENTS) expect(KPI_EVENT_TYPES as readonly string[]).not.toContain(type);
    const life = lifeOf(1, 'completed', DAY, 'EUR', 2380, 9);
    const placed = life[0]?.detail;
    const order = {
      orderId: String(placed?.orderId),
      customerId: 'C1',
      status: 'COMPLETED',
      channel: 'web',
      currency: 'EUR',
      createdAt: String(placed?.placedAt),
      totals: { total: 2380 },
    };
    const ledger: Event[] = [
      {
        type: 'OrderCreditNoteIssued',
        detail: {
          ...orderEventDetail(order, 'OrderCreditNoteIssued', at(DAY, 200), 'CN-2026-000001'),
          creditNoteNumber: 'CN-2026-000001',
          invoiceNumber: 'INV-1',
          amount: 1190,
        },
      },
      {
        type: 'OrderPaymentReceived',
        detail: {
          ...orderEventDetail(order, 'OrderPaymentReceived', at(DAY, 300), 'INV-1:BANK-1'),
          invoiceNumber: 'INV-1',
          reference: 'BANK-1',
          amount: 1190,
        },
      },
    ];
    for (const event of ledger)
      expect(foldEvent(event.type, parseEventDetail(event.type, event.detail)).stage).toBeUndefined();
    expect(sorted(project([...life, ...ledger]))).toEqual(sorted(project(life)));
    expect(sorted(project([...ledger, ...life]))).toEqual(sorted(project(life)));
  });
});
