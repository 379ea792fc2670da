import { DocumentStore } from '../adapters/document-store.ts';
import { Mailer } from '../adapters/mailer.ts';
import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { requireEnv } from '../lib/config.ts';
import { finishCreditNote } from '../lib/credit-notes.ts';
import { clock, eventPublisher, invoiceLedger, invoicesRepository, ordersRepository } from '../lib/deps.ts';
import { errorLabel } from '../lib/http.ts';
import { ledgerEvents } from '../lib/ledger-events.ts';
import { logger, observedHandler, orderScope } from '../lib/powertools.ts';

const invoices = invoicesRepository();
const ledger = invoiceLedger(invoices, { balances: false });
const deps = {
  invoices,
  ledger,
  payments: new SandboxPaymentProvider(),
  documents: new DocumentStore(requireEnv('DOCUMENTS_BUCKET_NAME')),
  mailer: new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined),
  financeEmail: requireEnv('FINANCE_EMAIL'),
  events: ledgerEvents({ orders: ordersRepository(), events: eventPublisher() }),
  clock,
};

/**
 * Scheduled (every 5 minutes): credit-note requests whose caller gave up or failed half-way (a
 * refund that timed out, a number that took longer than the HTTP answer) are finished as a retry
 * would finish them: refund if due, number, PDF, e-mails, each once, and the OrderCreditNoteIssued
 * event (also for a note numbered and not yet published). One failing request does not
 * stop the others; the next sweep tries it again.
 */
export const handler = observedHandler(async (): Promise<{ finished: string[]; failed: number }> => {
  const finished: string[] = [];
  let failed = 0;
  for (const requestId of await ledger.unfinishedCreditNoteRequests(clock())) {
    // The note's lines name its order (tagged once its record is read), the next note's do not.
    await orderScope(async () => {
      try {
        finished.push((await finishCreditNote(deps, requestId)).creditNoteNumber);
      } catch (error) {
        failed++;
        logger.error('Sweep could not finish a credit note', { requestId, ...errorLabel(error) });
      }
    });
  }
  if (finished.length > 0 || failed > 0) logger.info('Credit notes finished', { finished, failed });
  return { finished, failed };
});
