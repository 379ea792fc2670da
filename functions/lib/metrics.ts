import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * The execution environment's Powertools metrics (embedded metric format), a singleton like the logger
 * in powertools.ts. A module of its own: only the functions that emit metrics load and create it at INIT.
 */
export const metrics = new Metrics({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'sales-orders',
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'SalesOrders',
});
