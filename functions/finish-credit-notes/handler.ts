import type { Context } from 'aws-lambda';
import { DocumentStore } from '../adapters/document-store.ts';
import { Mailer } from '../adapters/mailer.ts';
import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { requireEnv } from '../lib/config.ts';
import { finishCreditNote } from '../lib/credit-notes.ts';
import { clock, eventPublisher, invoiceLedger, invoicesRepository, ordersRepository } from '../lib/deps.ts';
import { errorLabel } from '../lib/http.ts';
import { ledgerEvents } from '../lib/ledger-events.ts';
import { publishPayment } from '../lib/payments-on-account.ts';
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
/** Time kept back from the function's timeout: what is left goes to the next sweep. */
const RESERVE_MS = 20_000;

/**
 * Scheduled (every 5 minutes): payments on account whose OrderPaymentReceived was not published
 * (the request failed after recording them and nobody came back) are published; credit-note requests
 * whose caller gave up or failed half-way (a refund that timed out, a number that took longer than
 * the HTTP answer) are finished as a retry would finish them: refund if due, number, the
 * OrderCreditNoteIssued event, PDF, e-mails, each once. One failing item does not stop the others;
 * the next sweep tries it again.
 */
export const handler = observedHandler(
  async (
    _event: unknown,
    context: Context,
  ): Promise<{ finished: string[]; failed: number; paymentsPublished: number }> => {
    const finished: string[] = [];
    let failed = 0;
    let paymentsPublished = 0;
    const timeLeft = () => context.getRemainingTimeInMillis() >= RESERVE_MS;
    for (const recorded of await ledger.unpublishedPayments(clock())) {
      if (!timeLeft()) break;
      await orderScope(async () => {
        try {
          await publishPayment(deps, recorded);
          paymentsPublished++;
        } catch (error) {
          failed++;
          logger.error('Sweep could not publish a payment', {
            invoiceNumber: recorded.invoiceNumber,
            ...errorLabel(error),
          });
        }
      }, recorded.orderId);
    }
    for (const requestId of await ledger.unfinishedCreditNoteRequests(clock())) {
      if (!timeLeft()) break;
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
    if (finished.length > 0 || failed > 0 || paymentsPublished > 0)
      logger.info('Credit notes finished, payments published', { finished, failed, paymentsPublished });
    return { finished, failed, paymentsPublished };
  },
);
