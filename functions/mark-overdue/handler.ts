import { clock, invoiceLedger } from '../lib/deps.ts';
import { logger, observedHandler } from '../lib/powertools.ts';

const ledger = invoiceLedger(undefined, { balances: false });

/** Scheduled (hourly): open invoices past their due date become `overdue`, found through the sparse index. */
export const handler = observedHandler(async (): Promise<{ marked: string[] }> => {
  const marked = await ledger.markOverdue(clock());
  if (marked.length > 0) logger.info('Invoices overdue', { count: marked.length, invoiceNumbers: marked });
  return { marked };
});
