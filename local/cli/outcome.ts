import { type ApiAnswer, type ApiError, errorOf, NoAnswer } from './api.ts';
import { type RowReport, UNKNOWN_ROW } from './format.ts';

/**
 * What a POST /order-entries came to, after the retries: the order id; a refusal, with nothing
 * placed; or unknown, when a request may have been captured without the CLI hearing so. Only an
 * answer that read the entry (400, 422) is definite after such an attempt: a retry under the same
 * key would have found the order and answered 202.
 */
export type EntryOutcome =
  | { kind: 'accepted'; orderId: string }
  | { kind: 'refused'; status?: number; error: ApiError }
  | { kind: 'unknown'; reason: string };

const DEFINITE_REFUSALS = new Set([400, 422]);

export function entryOutcome(result: ApiAnswer | NoAnswer): EntryOutcome {
  if (result instanceof NoAnswer) {
    return result.uncertain
      ? { kind: 'unknown', reason: result.message }
      : { kind: 'refused', error: { message: result.message, issues: [] } };
  }
  const orderId = result.body?.orderId;
  if (result.status === 202 && typeof orderId === 'string') return { kind: 'accepted', orderId };
  const error = errorOf(result);
  if (result.uncertain && !DEFINITE_REFUSALS.has(result.status)) {
    return { kind: 'unknown', reason: `${result.status} ${error.code ?? ''} ${error.message}`.replace(/\s+/g, ' ') };
  }
  return { kind: 'refused', status: result.status, error };
}

/** Sends a request and tells its outcome: a NoAnswer becomes an outcome, any other error is thrown. */
export async function outcomeOf(send: () => Promise<ApiAnswer>): Promise<EntryOutcome> {
  try {
    return entryOutcome(await send());
  } catch (error) {
    if (error instanceof NoAnswer) return entryOutcome(error);
    throw error;
  }
}

/**
 * The import's last line and exit status. Rows count as imported only with an order id: a row never
 * sent is not imported, a row whose outcome is unknown is neither.
 */
export function importSummary(
  reports: RowReport[],
  totals: { orders: number; rows: number },
): { line: string; exitCode: 0 | 1 } {
  const imported = reports.filter((r) => r.outcome === 'imported');
  const unknown = reports.filter((r) => r.outcome === 'unknown').length;
  const orders = new Set(imported.map((r) => r.orderId)).size;
  const notImported = totals.rows - imported.length - unknown;
  const line = `${orders} of ${totals.orders} orders imported (${imported.length} of ${totals.rows} rows); ${notImported} rows not imported${unknown > 0 ? `; ${unknown} rows ${UNKNOWN_ROW}` : ''}`;
  return { line, exitCode: imported.length === totals.rows ? 0 : 1 };
}
