import { dependencyChecks } from '../adapters/health.ts';
import { requireEnv } from '../lib/config.ts';
import { httpRoute, json } from '../lib/http.ts';
import { logger } from '../lib/powertools.ts';

const checks = dependencyChecks({
  ordersTable: requireEnv('ORDERS_TABLE_NAME'),
  stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
  bucket: requireEnv('DOCUMENTS_BUCKET_NAME'),
  eventBus: requireEnv('EVENT_BUS_NAME'),
});

/** GET /health — 200 when every service the order flow depends on answers, else 503 naming the ones that do not. */
export const handler = httpRoute(async () => {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await check();
        return [name, 'ok'] as const;
      } catch (error) {
        logger.warn('Health check failed', { dependency: name, error: (error as Error).name });
        return [name, 'unavailable'] as const;
      }
    }),
  );
  const healthy = results.every(([, status]) => status === 'ok');
  return json(healthy ? 200 : 503, { status: healthy ? 'ok' : 'degraded', checks: Object.fromEntries(results) });
});
