import { DocumentStore } from '../adapters/document-store.ts';
import { renderInvoicePdf } from '../adapters/invoice-pdf.ts';
import { Mailer } from '../adapters/mailer.ts';
import { invoiceYear } from '../core/invoice-number.ts';
import { formatMoney } from '../core/money.ts';
import { OrderRef } from '../core/schemas.ts';
import { optionalEnv, requireEnv } from '../lib/config.ts';
import {
  clock,
  creditLedger,
  customersRepository,
  eventPublisher,
  invoicesRepository,
  ordersRepository,
} from '../lib/deps.ts';
import { stageRecorder } from '../lib/stages.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const customers = customersRepository();
const invoices = invoicesRepository();
const credit = creditLedger();
const documents = new DocumentStore(requireEnv('DOCUMENTS_BUCKET_NAME'));
const mailer = new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined);
const financeEmail = requireEnv('FINANCE_EMAIL');
const seller = {
  name: optionalEnv('SELLER_NAME', 'Sales Orders Ltd'),
  address: optionalEnv('SELLER_ADDRESS', '1 Commerce Street, Dublin, IE'),
};
const recordStage = stageRecorder(orders, eventPublisher(), clock);

/**
 * IssueInvoice: number and invoice in one transaction (gap-free), PDF to S3, e-mail with the PDF
 * to the customer and finance. Each step is safe to retry: the number is issued once per order and
 * the e-mail is sent once per invoice.
 */
export const handler = workflowTask(OrderRef, async ({ orderId }) => {
  const order = await orders.get(orderId);
  const customer = await customers.find(order.customerId);
  if (!customer || !order.lines || !order.totals) throw new Error(`Order ${orderId} is not ready to invoice`);
  const issuedAt = clock();
  const invoice = await invoices.issue(
    {
      orderId,
      customerId: customer.customerId,
      customerName: customer.name,
      customerEmail: customer.email,
      issuedAt: issuedAt.toISOString(),
      currency: order.currency,
      lines: order.lines,
      totals: order.totals,
      billingAddress: order.shippingAddress,
      paymentMethod: order.payment.method,
    },
    invoiceYear(issuedAt),
    order.payment.method === 'on_account'
      ? [customers.openBalanceIncrease(customer.customerId, order.totals.total)]
      : [],
  );

  const pdfKey = `invoices/${invoice.invoiceNumber.slice(4, 8)}/${invoice.invoiceNumber}.pdf`;
  // Rendered only when a step still needs it: a retry after both were done does no work.
  const pdf = invoice.pdfKey && invoice.emailedAt ? undefined : renderInvoicePdf(invoice, seller);
  if (pdf && !invoice.pdfKey) {
    await documents.put(pdfKey, pdf, 'application/pdf');
    await invoices.update(invoice.invoiceNumber, { pdfKey });
  }
  if (pdf && !invoice.emailedAt) {
    const total = formatMoney(invoice.totals.total, invoice.currency);
    await mailer.send({
      to: [invoice.customerEmail, financeEmail],
      subject: `Invoice ${invoice.invoiceNumber} for order ${orderId}`,
      text: [
        `Dear ${invoice.customerName},`,
        '',
        `thank you for your order ${orderId}. Your invoice ${invoice.invoiceNumber} over ${total} is attached.`,
        order.payment.method === 'card' ? 'It has been paid by card.' : 'Please pay within 30 days.',
        '',
        seller.name,
      ].join('\n'),
      attachments: [{ fileName: `${invoice.invoiceNumber}.pdf`, contentType: 'application/pdf', content: pdf }],
    });
    await invoices.update(invoice.invoiceNumber, { emailedAt: clock().toISOString() });
  }
  await recordStage(
    orderId,
    'OrderInvoiced',
    { status: 'INVOICED', set: { invoice: { number: invoice.invoiceNumber, total: invoice.totals.total, pdfKey } } },
    { invoiceNumber: invoice.invoiceNumber },
  );
  return { invoiceNumber: invoice.invoiceNumber };
});
