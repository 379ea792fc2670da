import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/**
 * One logger per execution environment (Powertools' recommended singleton; metrics: lib/metrics.ts).
 *
 * No tracer in the bundles: X-Ray traces come from the platform. Lambda's active tracing records every
 * invocation (INIT, invocation, overhead) and the state machine's tracing every state, joined in one
 * trace per execution. The Powertools tracer would add a subsegment per SDK call, but it wraps the X-Ray
 * SDK (in maintenance mode since 25 February 2026), which every cold start in AWS paid to load and
 * every bundle carried (about a tenth of INIT); the AWS Distro for OpenTelemetry layer adds those
 * subsegments without a line of code here (README, Observability).
 */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'sales-orders';

export const logger = new Logger({ serviceName });

/**
 * Every function's handler is made by this (workflowTask and httpRoute too): its log lines carry the
 * Lambda context, and the keys an invocation appends (its orderId) are reset when it ends,
 * so a warm execution environment never lends the previous order's id to the next invocation.
 */
export function observedHandler<E, R>(run: (event: E, context: Context) => Promise<R>) {
  return middy(run).use(injectLambdaContext(logger, { resetKeys: true }));
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
