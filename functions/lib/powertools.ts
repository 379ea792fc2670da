import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/** One logger, tracer and metrics instance per execution environment (Powertools' recommended singletons). */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'sales-orders';

export const logger = new Logger({ serviceName });
export const tracer = new Tracer({ serviceName });
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'SalesOrders',
});

/**
 * Every function's handler is made by this (workflowTask and httpRoute too): traced, its log lines
 * carry the Lambda context, and the keys an invocation appends (its orderId) are reset when it ends,
 * so a warm execution environment never lends the previous order's id to the next invocation.
 */
export function observedHandler<E, R>(run: (event: E, context: Context) => Promise<R>) {
  return middy(run)
    .use(captureLambdaHandler(tracer, { captureResponse: false })) // responses hold personal data
    .use(injectLambdaContext(logger, { resetKeys: true }));
}

/** From here to the end of the invocation (or of its orderScope) every log line names the order. */
export function logOrder(orderId: string): void {
  logger.appendKeys({ orderId });
}

/**
 * One order of a handler's sweep or batch: the lines it logs name it (tagged here, or by logOrder once
 * it is known), and the next order's lines do not. For loops over orders only: it removes the tag after
 * it, so it does not nest inside a handler that serves one order.
 */
export async function orderScope<T>(run: () => Promise<T>, orderId?: string): Promise<T> {
  if (orderId !== undefined) logOrder(orderId);
  try {
    return await run();
  } finally {
    logger.removeKeys(['orderId']);
  }
}
