import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** One logger, tracer and metrics instance per execution environment (Powertools' recommended singletons). */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'sales-orders';

export const logger = new Logger({ serviceName });
export const tracer = new Tracer({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'SalesOrders',
});
