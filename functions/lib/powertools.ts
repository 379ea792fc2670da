import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/** One logger and tracer per execution environment (Powertools' recommended singletons; metrics: lib/metrics.ts). */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'sales-orders';

export const logger = new Logger({ serviceName });

/**
 * Powertools traces only in a Lambda execution environment (`AWS_EXECUTION_ENV`) and not when
 * `POWERTOOLS_TRACE_ENABLED` is `false`. Elsewhere (the local runtime, tests) the tracer, and the
 * X-Ray SDK behind it, is not even loaded: it would be a tenth of every cold start's INIT for nothing.
 */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.AWS_EXECUTION_ENV) && env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false';
}

const tracing = tracingWanted(process.env) ? await loadTracing() : undefined;
/** The execution environment's tracer; undefined where nothing is traced. */
export const tracer: Tracer | undefined = tracing?.tracer;

async function loadTracing() {
  const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/tracer/middleware'),
  ]);
  return { tracer: new Tracer({ serviceName }), captureLambdaHandler };
}

/** An AWS SDK client whose calls are traced as subsegments, where tracing is on. Made once per environment. */
export function traced<C>(client: C): C {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

/**
 * Every function's handler is made by this (workflowTask and httpRoute too): traced, its log lines
 * carry the Lambda context, and the keys an invocation appends (its orderId) are reset when it ends,
 * so a warm execution environment never lends the previous order's id to the next invocation.
 */
export function observedHandler<E, R>(run: (event: E, context: Context) => Promise<R>) {
  const handler = middy(run);
  if (tracing) handler.use(tracing.captureLambdaHandler(tracing.tracer, { captureResponse: false })); // responses hold personal data
  return handler.use(injectLambdaContext(logger, { resetKeys: true }));
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
