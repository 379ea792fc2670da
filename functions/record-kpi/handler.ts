import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { metricsFor } from '../core/kpi.ts';
import { logger, metrics } from '../lib/powertools.ts';

/**
 * KPI consumer: turns the order domain events into CloudWatch metrics (embedded metric format),
 * which the dashboard and alarms read. Fulfilment and rejection rates are metric math over these counts.
 */
export const handler = middy(async (event: EventBridgeEvent<string, Record<string, unknown>>) => {
  const points = metricsFor(event['detail-type'], event.detail ?? {});
  const currency = typeof event.detail?.currency === 'string' ? event.detail.currency : undefined;
  for (const point of points) {
    if (point.name === 'Revenue' && currency) {
      const single = metrics.singleMetric();
      single.addDimension('currency', currency);
      single.addMetric(point.name, point.unit, point.value);
    } else {
      metrics.addMetric(point.name, point.unit, point.value);
    }
  }
  return { recorded: points.map((p) => p.name) };
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
