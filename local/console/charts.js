import { duration, h, svg } from './dom.js';

/**
 * The two charts, from order search summaries (GET /orders): orders placed per UTC day by their
 * outcome so far, and how long completed orders took from placing to completion.
 */

export const OUTCOMES = ['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED', 'IN_FLIGHT'];
const outcomeOf = (status) => (OUTCOMES.includes(status) ? status : 'IN_FLIGHT');

/** `[{ day, COMPLETED, REJECTED, CANCELLED, FAILED, IN_FLIGHT }]` for every day from..to (inclusive). */
export function ordersPerDay(orders, from, to) {
  const days = [];
  for (
    let day = new Date(`${from}T00:00:00Z`);
    day <= new Date(`${to}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() + 1)
  )
    days.push({ day: day.toISOString().slice(0, 10), ...Object.fromEntries(OUTCOMES.map((o) => [o, 0])) });
  const byDay = new Map(days.map((d) => [d.day, d]));
  for (const order of orders) {
    const row = byDay.get(order.createdAt.slice(0, 10));
    if (row) row[outcomeOf(order.status)] += 1;
  }
  return days;
}

/** Upper bounds (seconds) of the cycle-time buckets; wide enough for a laptop's seconds and production's days. */
const BUCKETS = [10, 30, 60, 300, 1800, 7200, 43200, 86400, 259200, Number.POSITIVE_INFINITY];

/** Completed orders by placed -> completed time (the summary's `updatedAt`: a completed order changes no more). */
export function cycleTimes(orders) {
  const counts = BUCKETS.map((upTo, i) => ({ from: BUCKETS[i - 1] ?? 0, upTo, count: 0 }));
  for (const order of orders.filter((o) => o.status === 'COMPLETED')) {
    const seconds = (Date.parse(order.updatedAt) - Date.parse(order.createdAt)) / 1000;
    const bucket = counts.find((b) => seconds < b.upTo);
    if (bucket) bucket.count += 1;
  }
  return counts;
}

const WIDTH = 640;
const HEIGHT = 180;
const BASE = HEIGHT - 24;

/** Stacked columns per day, one colour per outcome, with a legend. */
export function perDayChart(days) {
  const max = Math.max(1, ...days.map((d) => OUTCOMES.reduce((sum, o) => sum + d[o], 0)));
  const slot = WIDTH / Math.max(days.length, 1);
  const columns = days.map((d, i) => {
    let top = BASE;
    const parts = OUTCOMES.filter((o) => d[o] > 0).map((o) => {
      const height = ((BASE - 10) * d[o]) / max;
      top -= height;
      return svg(
        'rect',
        { class: `outcome-${o}`, x: i * slot + 2, y: top, width: Math.max(slot - 4, 1), height },
        svg('title', {}, `${d.day} ${o}: ${d[o]}`),
      );
    });
    const label = days.length <= 16 || i % Math.ceil(days.length / 16) === 0;
    return svg(
      'g',
      { 'data-day': d.day },
      parts,
      label ? svg('text', { x: i * slot + slot / 2, y: HEIGHT - 8, 'text-anchor': 'middle' }, d.day.slice(5)) : null,
    );
  });
  return h(
    'figure',
    {},
    svg(
      'svg',
      { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': 'Orders per day by outcome' },
      svg('text', { x: 0, y: 10 }, `max ${max}`),
      columns,
    ),
    h(
      'figcaption',
      {},
      OUTCOMES.map((o) => h('span', { class: `legend outcome-${o}` }, o.replace('_', ' ').toLowerCase())),
    ),
  );
}

/** A histogram of cycle-time buckets. */
export function cycleChart(buckets) {
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const slot = WIDTH / buckets.length;
  const label = (b) => (b.upTo === Number.POSITIVE_INFINITY ? `≥ ${duration(b.from)}` : `< ${duration(b.upTo)}`);
  return h(
    'figure',
    {},
    svg(
      'svg',
      { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': 'Cycle-time distribution' },
      buckets.map((b, i) => {
        const height = ((BASE - 10) * b.count) / max;
        return svg(
          'g',
          { 'data-bucket': label(b), 'data-count': b.count },
          svg('rect', { class: 'bar', x: i * slot + 4, y: BASE - height, width: slot - 8, height }),
          b.count > 0
            ? svg('text', { x: i * slot + slot / 2, y: BASE - height - 3, 'text-anchor': 'middle' }, b.count)
            : null,
          svg('text', { x: i * slot + slot / 2, y: HEIGHT - 8, 'text-anchor': 'middle' }, label(b)),
        );
      }),
    ),
    h('figcaption', {}, 'Completed orders, placed → completed'),
  );
}
