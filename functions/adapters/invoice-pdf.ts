import { jsPDF } from 'jspdf';
import { formatMoney, formatRate } from '../core/money.ts';
import type { Invoice } from '../core/schemas.ts';

/** Renders the invoice as an A4 PDF (jsPDF, standard fonts: no font files to ship). */
export function renderInvoicePdf(invoice: Invoice, seller: { name: string; address: string }): Uint8Array {
  const doc = new jsPDF({ unit: 'mm', format: 'a4' });
  doc.setProperties({ title: `Invoice ${invoice.invoiceNumber}`, creator: seller.name });
  const money = (amount: number) => formatMoney(amount, invoice.currency);

  doc.setFont('helvetica', 'bold').setFontSize(20).text('INVOICE', 20, 25);
  doc.setFont('helvetica', 'normal').setFontSize(10);
  doc.text([seller.name, seller.address], 190, 20, { align: 'right' });
  doc.text(
    [
      `Invoice number: ${invoice.invoiceNumber}`,
      `Invoice date: ${invoice.issuedAt.slice(0, 10)}`,
      `Order: ${invoice.orderId}`,
      `Payment: ${invoice.paymentMethod === 'card' ? 'paid by card' : 'on account, due in 30 days'}`,
    ],
    20,
    40,
  );
  const address = invoice.billingAddress;
  doc.text(
    [address.name, address.line1, address.line2 ?? '', `${address.postalCode} ${address.city}`, address.country].filter(
      Boolean,
    ),
    120,
    40,
  );

  let y = 75;
  doc.setFont('helvetica', 'bold');
  doc.text('SKU', 20, y).text('Description', 50, y).text('Qty', 115, y, { align: 'right' });
  doc
    .text('Unit price', 145, y, { align: 'right' })
    .text('VAT', 160, y, { align: 'right' })
    .text('Amount', 190, y, { align: 'right' });
  doc.line(20, y + 2, 190, y + 2);
  doc.setFont('helvetica', 'normal');
  for (const line of invoice.lines) {
    y += 7;
    if (y > 260) {
      doc.addPage();
      y = 25;
    }
    doc
      .text(line.sku, 20, y)
      .text(line.name.slice(0, 40), 50, y)
      .text(String(line.quantity), 115, y, { align: 'right' });
    doc
      .text(money(line.unitPrice), 145, y, { align: 'right' })
      .text(formatRate(line.taxRateBasisPoints), 160, y, { align: 'right' });
    doc.text(money(line.lineSubtotal), 190, y, { align: 'right' });
  }
  y += 4;
  doc.line(120, y, 190, y);
  y += 6;
  doc.text('Subtotal', 120, y).text(money(invoice.totals.subtotal), 190, y, { align: 'right' });
  y += 6;
  doc.text('VAT', 120, y).text(money(invoice.totals.tax), 190, y, { align: 'right' });
  y += 7;
  doc.setFont('helvetica', 'bold').text('Total', 120, y).text(money(invoice.totals.total), 190, y, { align: 'right' });
  return new Uint8Array(doc.output('arraybuffer'));
}
