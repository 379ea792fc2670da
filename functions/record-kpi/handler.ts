import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { metricsFor } from '../core/kpi.ts';
import { requireEnv } from '../lib/config.ts';
import { logger, metrics } from '../lib/powertools.ts';

type OrderEvent = EventBridgeEvent<string, Record<string, unknown>>;

// Domain events are delivered at least once (a retried stage announces itself again): count
// each (order, event type) once.
const config = new IdempotencyConfig({
  eventKeyJmesPath: '[detail.orderId, "detail-type"]',
  expiresAfterSeconds: 7 * 24 * 60 * 60,
});

const record = makeIdempotent(
  async (event: OrderEvent) => {
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
  },
  { persistenceStore: new DynamoDBPersistenceLayer({ tableName: requireEnv('IDEMPOTENCY_TABLE_NAME') }), config },
);

/**
 * KPI consumer: turns the order domain events into CloudWatch metrics (embedded metric format),
 * which the dashboard and alarms read. Fulfilment and rejection rates are metric math over these counts.
 */
export const handler = middy(async (event: OrderEvent, context: Context) => {
  config.registerLambdaContext(context);
  try {
    return await record(event);
  } finally {
    // Most events (and every repeat) carry no KPI: publish only when there is a metric, instead of
    // a warning per event about an empty batch.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}).use(injectLambdaContext(logger, { resetKeys: true }));
