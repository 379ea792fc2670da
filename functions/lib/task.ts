import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { DomainError, InvalidTaskInput } from '../core/errors.ts';
import { redactPersonalData } from '../core/redact.ts';
import { logOrder, observedHandler } from './powertools.ts';

/**
 * A workflow task handler: validates the state's input against its schema, tags the logs with
 * the order id, traces, and lets errors propagate by name so the state machine's Retry/Catch decide.
 */
export function workflowTask<S extends z.ZodMiniType<{ orderId: string }>, R>(
  schema: S,
  run: (input: z.output<S>, context: Context) => Promise<R>,
) {
  return observedHandler(async (event: unknown, context: Context) => {
    const parsed = schema.safeParse(event);
    if (!parsed.success) throw new InvalidTaskInput(z.prettifyError(parsed.error));
    logOrder(parsed.data.orderId);
    try {
      return await run(parsed.data, context);
    } catch (error) {
      // What a task throws lands in the execution history (and the order's failure code): the name
      // stays (Retry and Catch match it), an e-mail address an AWS service echoed does not.
      if (error instanceof Error && !(error instanceof DomainError)) {
        const original = error.message;
        error.message = redactPersonalData(original);
        if (error.stack) error.stack = redactPersonalData(error.stack);
      }
      throw error;
    }
  });
}
