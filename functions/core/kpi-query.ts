import * as z from 'zod/mini';
import { lazySchema } from './lazy-schema.ts';
import { Currency } from './schemas.ts';

/** The longest window GET /kpis answers for (whole UTC days, both ends included). */
export const MAX_KPI_WINDOW_DAYS = 366;

export const KPI_QUERY_PARAMETERS = ['from', 'to', 'currency'] as const;

const Day = /* @__PURE__ */ lazySchema(() => z.iso.date('must be an ISO date (2026-11-01)'));

/**
 * GET /kpis query: orders placed from `from` to `to` (UTC days, inclusive), at most
 * MAX_KPI_WINDOW_DAYS; `currency` narrows revenue and average order value. Unknown parameters are
 * refused, as for the order search (a misspelt one would otherwise be ignored silently).
 */
export const KpisQuery = /* @__PURE__ */ lazySchema(() =>
  z.looseObject({ from: Day, to: Day, currency: z.optional(Currency) }).check(
    z.superRefine((query, ctx) => {
      for (const key of Object.keys(query))
        if (!(KPI_QUERY_PARAMETERS as readonly string[]).includes(key))
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `is not a parameter (${KPI_QUERY_PARAMETERS.join(', ')})`,
          });
      const days = (Date.parse(query.to) - Date.parse(query.from)) / 86_400_000 + 1;
      if (days < 1) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
      else if (days > MAX_KPI_WINDOW_DAYS)
        ctx.addIssue({
          code: 'custom',
          path: ['to'],
          message: `must be at most ${MAX_KPI_WINDOW_DAYS} days after from`,
        });
    }),
  ),
);
export type KpisQuery = z.infer<typeof KpisQuery>;

const Rate = /* @__PURE__ */ lazySchema(() => z.nullable(z.number().check(z.gte(0), z.lte(1))));
const PerKey = /* @__PURE__ */ lazySchema(() => z.record(z.string(), z.number()));

/** GET /kpis: the KPIs (core/kpi-figures.ts defines them) of the orders placed in the window. */
export const KpisAnswer = /* @__PURE__ */ lazySchema(() =>
  z.object({
    from: z.iso.date(),
    to: z.iso.date(),
    currency: z.nullable(Currency),
    ordersPlaced: z.number().check(z.int()),
    ordersCompleted: z.number().check(z.int()),
    ordersRejected: z.number().check(z.int()),
    ordersCancelled: z.number().check(z.int()),
    ordersFailed: z.number().check(z.int()),
    ordersInFlight: z.number().check(z.int()),
    revenue: PerKey.check(z.describe('Gross of completed orders per currency, minor units')),
    averageOrderValue: PerKey.check(z.describe('Revenue / completed orders per currency, minor units')),
    cycleTimeSeconds: z.object({ p50: z.nullable(z.number()), p90: z.nullable(z.number()) }),
    fulfilmentRate: Rate,
    onTimeDeliveryRate: Rate,
    backorderRate: Rate,
    rejectionsByReason: PerKey,
    failuresByReason: PerKey,
    stageLatencySeconds: PerKey.check(z.describe('p50 per stage of the happy path, seconds since the stage before it')),
    nps: z.object({
      score: z.nullable(z.number().check(z.int())),
      promoters: z.number().check(z.int()),
      passives: z.number().check(z.int()),
      detractors: z.number().check(z.int()),
      responses: z.number().check(z.int()),
    }),
  }),
);
