import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { jsPDF } from 'jspdf';
import { formatMoney, formatRate } from '../core/money.ts';
import type { Invoice } from '../core/schemas.ts';
import { taxNote } from '../core/tax.ts';
import { INVOICE_FONTS } from './invoice-fonts.ts';

/*
 * The PDF standard fonts only know Windows-1252 ("Łódź" came out as "Aódz"): the invoice embeds
 * Noto Sans instead. jsPDF embeds the glyphs used with a ToUnicode map, so the text stays searchable.
 */
/**
 * Read once at INIT. In the Lambda bundle the files sit next to the bundle (CDK copies them, see
 * OrderFunction's `files`); from source they are resolved in node_modules.
 */
function loadFont(specifier: string): string {
  const bundled = fileURLToPath(new URL(`./${specifier.split('/').pop()}`, import.meta.url));
  const path = existsSync(bundled) ? bundled : createRequire(import.meta.url).resolve(specifier);
  return readFileSync(path).toString('base64');
}
const fonts = { normal: loadFont(INVOICE_FONTS.normal), bold: loadFont(INVOICE_FONTS.bold) };
const FONT = 'NotoSans';

/** Renders the invoice as an A4 PDF. */
export function renderInvoicePdf(invoice: Invoice, seller: { name: string; address: string }): Uint8Array {
  const doc = new jsPDF({ unit: 'mm', format: 'a4' });
  for (const style of ['normal', 'bold'] as const) {
    doc.addFileToVFS(`${FONT}-${style}.ttf`, fonts[style]);
    doc.addFont(`${FONT}-${style}.ttf`, FONT, style, undefined, 'Identity-H');
  }
  doc.setProperties({ title: `Invoice ${invoice.invoiceNumber}`, creator: seller.name });
  const money = (amount: number) => formatMoney(amount, invoice.currency);

  doc.setFont(FONT, 'bold').setFontSize(20).text('INVOICE', 20, 25);
  doc.setFont(FONT, 'normal').setFontSize(10);
  doc.text([seller.name, seller.address], 190, 20, { align: 'right' });
  doc.text(
    [
      `Invoice number: ${invoice.invoiceNumber}`,
      `Invoice date: ${invoice.issuedAt.slice(0, 10)}`,
      `Order: ${invoice.orderId}`,
      `Payment: ${invoice.paymentMethod === 'card' ? 'paid by card' : 'on account, due in 30 days'}`,
      ...(invoice.customerVatId ? [`Customer VAT id: ${invoice.customerVatId}`] : []),
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
  doc.setFont(FONT, 'bold');
  doc.text('SKU', 20, y).text('Description', 50, y).text('Qty', 115, y, { align: 'right' });
  doc
    .text('Unit price', 145, y, { align: 'right' })
    .text('VAT', 160, y, { align: 'right' })
    .text('Amount', 190, y, { align: 'right' });
  doc.line(20, y + 2, 190, y + 2);
  doc.setFont(FONT, 'normal');
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
  if (invoice.totals.discount > 0) {
    // Amounts above are net of the customer's discount; say how much it was.
    doc.text('Discount included', 120, y).text(money(-invoice.totals.discount), 190, y, { align: 'right' });
    y += 6;
  }
  doc.text('Subtotal (net)', 120, y).text(money(invoice.totals.subtotal), 190, y, { align: 'right' });
  // VAT per rate, as computed (on the sum of the nets at that rate).
  for (const rate of invoice.totals.taxByRate) {
    y += 6;
    doc
      .text(`VAT ${formatRate(rate.rateBasisPoints)} on ${money(rate.net)}`, 120, y)
      .text(money(rate.tax), 190, y, { align: 'right' });
  }
  y += 7;
  doc.setFont(FONT, 'bold').text('Total', 120, y).text(money(invoice.totals.total), 190, y, { align: 'right' });
  const note = taxNote(invoice.taxTreatment);
  if (note) {
    y += 12;
    doc.setFont(FONT, 'normal').setFontSize(9);
    doc.text(doc.splitTextToSize(note, 170) as string[], 20, y);
  }
  return new Uint8Array(doc.output('arraybuffer'));
}
