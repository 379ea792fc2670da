import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { logger, tracer } from './powertools.ts';

export class InvalidTaskInput extends Error {
  override name = 'InvalidTaskInput';
}

/**
 * A workflow task handler: validates the state's input against its schema, tags the logs with
 * the order id, traces, and lets errors propagate by name so the state machine's Retry/Catch decide.
 */
export function workflowTask<S extends z.ZodType<{ orderId: string }>, R>(
  schema: S,
  run: (input: z.output<S>, context: Context) => Promise<R>,
) {
  return middy(async (event: unknown, context: Context) => {
    const parsed = schema.safeParse(event);
    if (!parsed.success) throw new InvalidTaskInput(z.prettifyError(parsed.error));
    logger.appendKeys({ orderId: parsed.data.orderId });
    return run(parsed.data, context);
  })
    .use(captureLambdaHandler(tracer, { captureResponse: false })) // responses hold personal data
    .use(injectLambdaContext(logger, { resetKeys: true }));
}
