import {
  counterKeysOf,
  dayShardOf,
  daysOf,
  kpisOfProjection,
  npsShardOf,
  orderFactsOf,
} from '../core/kpi-projection.ts';
import { KpisQuery } from '../core/kpi-query.ts';
import { kpiRepository } from '../lib/deps.ts';
import { httpRoute, json, parseOr400 } from '../lib/http.ts';

const kpis = kpiRepository();

/**
 * GET /kpis?from&to[&currency] (ops, finance): the KPIs of the orders placed in the window, from the
 * KPI projection: the day counters (every shard of every day), the facts of the window through the
 * day index (percentiles), and the survey answers given in it.
 */
export const handler = httpRoute(async (event) => {
  const query = parseOr400(KpisQuery, event.queryStringParameters ?? {}, 'query');
  const days = daysOf(query.from, query.to);
  const dayShards = counterKeysOf(days, dayShardOf);
  const [dayCounters, npsCounters, facts] = await Promise.all([
    kpis.counters(dayShards),
    kpis.counters(counterKeysOf(days, npsShardOf)),
    kpis.facts(dayShards),
  ]);
  const figures = kpisOfProjection(dayCounters, npsCounters, facts.map(orderFactsOf), query.currency);
  return json(200, { from: query.from, to: query.to, currency: query.currency ?? null, ...figures });
});
