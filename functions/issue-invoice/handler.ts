import { DocumentStore } from '../adapters/document-store.ts';
import { Mailer } from '../adapters/mailer.ts';
import { invoiceEmail, invoiceFinanceCopy } from '../core/emails.ts';
import { InvoiceNotDelivered } from '../core/errors.ts';
import { invoiceYear } from '../core/invoice-number.ts';
import { invoiceDraft } from '../core/invoicing.ts';
import { AllocationRef } from '../core/schemas.ts';
import { SELLER } from '../core/seller.ts';
import { shipmentCharge, shipmentIdOf } from '../core/shipment.ts';
import { requireEnv } from '../lib/config.ts';
import {
  clock,
  creditLedger,
  customersRepository,
  eventPublisher,
  invoicesRepository,
  ordersRepository,
} from '../lib/deps.ts';
import { invoiceSettlement } from '../lib/invoice-settlement.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const customers = customersRepository();
const invoices = invoicesRepository();
const credit = creditLedger();
const documents = new DocumentStore(requireEnv('DOCUMENTS_BUCKET_NAME'));
const mailer = new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined);
const financeEmail = requireEnv('FINANCE_EMAIL');
const recordStage = stageRecorder(orders, eventPublisher(), clock);
/** Time kept back from the function's timeout for the PDF, S3 and the e-mails after the number. */
const AFTER_NUMBER_MS = 20_000;

const settle = invoiceSettlement(credit, customers);

/**
 * IssueInvoice (per shipment): the shipment's lines priced as on the order, a gap-free number (see
 * InvoicesRepository: numbered in batches by the year's lease holder, in the same transaction as the
 * invoice and the customer's balance), PDF to S3, the e-mail with the PDF to the customer and a
 * separate copy to finance. Each step is safe to retry: the number is issued once per shipment and
 * each e-mail is sent once per invoice.
 */
export const handler = workflowTask(AllocationRef, async ({ orderId, allocationId }, context) => {
  const order = await orders.get(orderId);
  const customer = await customers.find(order.customerId);
  if (!customer || !order.lines || !order.totals) throw new Error(`Order ${orderId} is not ready to invoice`);
  const shipmentId = shipmentIdOf(orderId, allocationId);
  const charge = shipmentCharge(order, allocationId);
  const issuedAt = clock();
  // The shipment's invoice: the order's document (seller, buyer, due date, payment status) over the
  // shipment's charge (its lines priced as on the order, VAT per rate; see shipmentCharge).
  const draft = invoiceDraft({
    order: { ...order, lines: charge.lines, totals: charge.totals },
    customer,
    seller: SELLER,
    issuedAt,
  });
  const invoice = await invoices.issue(
    { ...draft, shipmentId, ...(order.taxTreatment ? { taxTreatment: order.taxTreatment } : {}) },
    invoiceYear(issuedAt),
    {
      settle,
      waitMs: Math.max(1_000, Math.min(20_000, context.getRemainingTimeInMillis() - AFTER_NUMBER_MS)),
    },
  );
  const number = invoice.invoiceNumber;
  const pdfKey = `invoices/${number.slice(4, 8)}/${number}.pdf`;
  try {
    await deliver(invoice, pdfKey);
  } catch (error) {
    // The number is issued (and kept); what is missing is named, without personal data.
    throw new InvoiceNotDelivered(`Payment captured, invoice ${number} issued but not delivered (PDF or e-mail)`, {
      cause: error,
    });
  }
  const invoicedAt = await orders.recordShipmentInvoice(
    orderId,
    shipmentId,
    { number, total: invoice.totals.total, pdfKey },
    clock(),
  );
  await recordStage(
    orderId,
    'OrderInvoiced',
    { status: 'INVOICED' },
    { invoiceNumber: number, shipmentId },
    invoicedAt,
  );
  return { invoiceNumber: number };
});

async function deliver(invoice: Awaited<ReturnType<typeof invoices.issue>>, pdfKey: string): Promise<void> {
  // Rendered only when a step still needs it: a retry after everything was done does no work.
  if (invoice.pdfKey && invoice.emailedAt && invoice.financeCopiedAt) return;
  // The PDF writer and the fonts load on the first render, not at INIT: that invocation pays for them.
  const { renderInvoicePdf } = await import('../adapters/invoice-pdf.ts');
  const pdf = renderInvoicePdf(invoice);
  const number = invoice.invoiceNumber;
  if (!invoice.pdfKey) {
    await documents.put(pdfKey, pdf, 'application/pdf');
    await invoices.update(number, { pdfKey });
  }
  const attachments = [{ fileName: `${number}.pdf`, contentType: 'application/pdf', content: pdf }];
  if (!invoice.emailedAt) {
    await mailer.send({ to: [invoice.customerEmail], ...invoiceEmail(invoice), attachments });
    await invoices.update(number, { emailedAt: clock().toISOString() });
  }
  // Finance gets its own message: the customer never sees finance's address, not even as Bcc.
  if (!invoice.financeCopiedAt) {
    await mailer.send({ to: [financeEmail], ...invoiceFinanceCopy(invoice), attachments });
    await invoices.update(number, { financeCopiedAt: clock().toISOString() });
  }
}
