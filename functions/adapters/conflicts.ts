import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { backoff } from './backoff.ts';

/**
 * A write lost to a concurrent transaction on one of its items: a single write refused with
 * TransactionConflict, or a transaction cancelled for conflicts only. Worth another try; the SDK
 * does not retry it.
 */
export function isConflict(error: unknown): boolean {
  if (error instanceof TransactionCanceledException)
    return (
      error.CancellationReasons?.some((reason) => reason.Code === 'TransactionConflict') === true &&
      error.CancellationReasons.every((reason) => ['None', 'TransactionConflict'].includes(reason.Code ?? 'None'))
    );
  return (error as Error).name === 'TransactionConflictException';
}

/** Runs a write again while it loses a conflict to a concurrent transaction, up to `attempts` tries, with full jitter. */
export async function retryingConflicts<T>(
  run: () => Promise<T>,
  { attempts, baseMs, capMs }: { attempts: number; baseMs: number; capMs: number },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!isConflict(error) || attempt >= attempts) throw error;
      await backoff(attempt, baseMs, capMs);
    }
  }
}
