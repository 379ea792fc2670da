import { jsPDF } from 'jspdf';
import { creditNoteTaxByRate, type TaxSummaryEntry } from '../core/invoicing.ts';
import { formatMoney, formatRate } from '../core/money.ts';
import type { CreditNote, Invoice, SellerDetails } from '../core/schemas.ts';
import { taxNote } from '../core/tax.ts';
import { NOTO_SANS_BOLD, NOTO_SANS_REGULAR } from './fonts/noto-sans.ts';

/*
 * The PDF standard fonts only know Windows-1252 ("Łódź" came out as "Aódz"): the invoice embeds
 * Noto Sans instead, cut down to the scripts an invoice prints (fonts/subset.sh). jsPDF embeds the
 * glyphs used with a ToUnicode map, so the text stays searchable. Its users import this module on
 * their first render, so neither jsPDF nor the fonts are evaluated at INIT.
 */
const fonts = { normal: NOTO_SANS_REGULAR, bold: NOTO_SANS_BOLD };
const FONT = 'NotoSans';

/** The legal note of the order's tax treatment (reverse charge, export, exemption), when it has one. */
function noteFor(treatment: Invoice['taxTreatment']): string[] {
  const note = taxNote(treatment);
  return note ? [note] : [];
}

const STATUS_TEXT: Record<Invoice['status'], string> = {
  open: 'open',
  paid: 'paid',
  overdue: 'overdue',
  credited: 'credited',
};

interface DocumentLine {
  sku: string;
  name: string;
  quantity: number;
  unitPrice?: number;
  category?: string;
  rate: number;
  net: number;
  tax: number;
}

/** The parts invoices and credit notes share: seller and buyer legal details, lines, tax summary, totals. */
function renderDocument(input: {
  title: string;
  meta: string[];
  seller: SellerDetails;
  buyer: { name: string; vatId?: string; address: Invoice['billingAddress'] };
  currency: string;
  lines: DocumentLine[];
  totals: { subtotal: number; tax: number; total: number; discount?: number };
  /** VAT per rate as the document computed it (an invoice's: on the sum of the nets at each rate). */
  taxByRate: readonly TaxSummaryEntry[];
  notes: string[];
}): Uint8Array {
  const doc = new jsPDF({ unit: 'mm', format: 'a4' });
  for (const style of ['normal', 'bold'] as const) {
    doc.addFileToVFS(`${FONT}-${style}.ttf`, fonts[style]);
    doc.addFont(`${FONT}-${style}.ttf`, FONT, style, undefined, 'Identity-H');
  }
  const { seller, buyer } = input;
  doc.setProperties({ title: input.title, creator: seller.legalName });
  const money = (amount: number) => formatMoney(amount, input.currency);

  doc
    .setFont(FONT, 'bold')
    .setFontSize(18)
    .text(input.title.split(' ')[0]?.toUpperCase() ?? '', 20, 22);
  doc.setFont(FONT, 'normal').setFontSize(9);
  doc.text([seller.legalName, ...seller.address, `VAT ID: ${seller.vatId}`, seller.registration], 190, 15, {
    align: 'right',
  });
  doc.setFontSize(10).text(input.meta, 20, 40);
  const address = buyer.address;
  doc.text(
    [
      buyer.name,
      address.name !== buyer.name ? address.name : '',
      address.line1,
      address.line2 ?? '',
      `${address.postalCode} ${address.city}`,
      address.country,
      buyer.vatId ? `VAT ID: ${buyer.vatId}` : '',
    ].filter(Boolean),
    120,
    40,
  );

  let y = 90;
  const page = () => {
    if (y > 265) {
      doc.addPage();
      y = 25;
    }
  };
  doc.setFont(FONT, 'bold');
  doc.text('SKU', 20, y).text('Description', 48, y).text('Qty', 112, y, { align: 'right' });
  doc
    .text('Unit price', 138, y, { align: 'right' })
    .text('VAT', 160, y, { align: 'right' })
    .text('Net', 190, y, { align: 'right' });
  doc.line(20, y + 2, 190, y + 2);
  doc.setFont(FONT, 'normal');
  for (const line of input.lines) {
    y += 7;
    page();
    doc
      .text(line.sku, 20, y)
      .text(line.name.slice(0, 36), 48, y)
      .text(String(line.quantity), 112, y, { align: 'right' });
    if (line.unitPrice !== undefined) doc.text(money(line.unitPrice), 138, y, { align: 'right' });
    doc
      .text(`${formatRate(line.rate)}${line.category ? ` ${line.category}` : ''}`, 160, y, { align: 'right' })
      .text(money(line.net), 190, y, { align: 'right' });
  }
  y += 5;
  page();
  doc.line(20, y, 190, y);
  y += 6;
  doc.setFont(FONT, 'bold').text('VAT summary', 20, y);
  doc.setFont(FONT, 'normal');
  for (const entry of input.taxByRate) {
    y += 6;
    page();
    doc
      .text(`VAT ${formatRate(entry.rateBasisPoints)} on ${money(entry.net)}`, 20, y)
      .text(money(entry.tax), 100, y, { align: 'right' });
  }
  y += 8;
  page();
  if (input.totals.discount) {
    // The nets above are after the customer's discount; say how much it was.
    doc.text('Discount included', 120, y).text(money(-input.totals.discount), 190, y, { align: 'right' });
    y += 6;
  }
  doc.text('Subtotal (net)', 120, y).text(money(input.totals.subtotal), 190, y, { align: 'right' });
  y += 6;
  doc.text('VAT', 120, y).text(money(input.totals.tax), 190, y, { align: 'right' });
  y += 7;
  doc.setFont(FONT, 'bold').text('Total', 120, y).text(money(input.totals.total), 190, y, { align: 'right' });
  doc.setFont(FONT, 'normal').setFontSize(9);
  y += 12;
  for (const note of input.notes) {
    page();
    const wrapped = doc.splitTextToSize(note, 170) as string[];
    doc.text(wrapped, 20, y);
    y += 5 * wrapped.length;
  }
  return new Uint8Array(doc.output('arraybuffer'));
}

/** Renders the invoice as an A4 PDF: seller and buyer legal details, due date, lines, VAT per rate, status. */
export function renderInvoicePdf(invoice: Invoice): Uint8Array {
  const seller = invoice.seller;
  const onAccount = invoice.paymentMethod === 'on_account';
  return renderDocument({
    title: `Invoice ${invoice.invoiceNumber}`,
    meta: [
      `Invoice number: ${invoice.invoiceNumber}`,
      `Invoice date: ${invoice.issuedAt.slice(0, 10)}`,
      `Due date: ${invoice.dueDate.slice(0, 10)}`,
      `Order: ${invoice.orderId}`,
      `Customer: ${invoice.customerId}`,
      `Payment: ${onAccount ? 'on account' : 'paid by card'}`,
      `Status: ${STATUS_TEXT[invoice.status]}`,
    ],
    seller,
    buyer: { name: invoice.customerName, vatId: invoice.customerVatId, address: invoice.billingAddress },
    currency: invoice.currency,
    lines: invoice.lines.map((line) => ({
      sku: line.sku,
      name: line.name,
      quantity: line.quantity,
      unitPrice: line.unitPrice,
      category: line.taxCategory,
      rate: line.taxRateBasisPoints,
      net: line.lineSubtotal,
      tax: line.lineTax,
    })),
    totals: invoice.totals,
    taxByRate: invoice.totals.taxByRate,
    notes: [
      ...noteFor(invoice.taxTreatment),
      onAccount
        ? `Please pay ${formatMoney(invoice.totals.total, invoice.currency)} by ${invoice.dueDate.slice(0, 10)} to ${seller.bank.name}, IBAN ${seller.bank.iban}, BIC ${seller.bank.bic}, quoting ${invoice.invoiceNumber}.`
        : 'Paid by card at the time of the order. Thank you.',
    ],
  });
}

/** Renders a credit note: which invoice it corrects, why, the lines and amounts taken back. */
export function renderCreditNotePdf(note: CreditNote): Uint8Array {
  return renderDocument({
    title: `Credit note ${note.creditNoteNumber}`,
    meta: [
      `Credit note number: ${note.creditNoteNumber}`,
      `Date: ${note.issuedAt.slice(0, 10)}`,
      `Corrects invoice: ${note.invoiceNumber}`,
      `Order: ${note.orderId}`,
      `Customer: ${note.customerId}`,
      `Reason: ${note.reason.slice(0, 80)}`,
    ],
    seller: note.seller,
    buyer: { name: note.customerName, vatId: note.customerVatId, address: note.billingAddress },
    currency: note.currency,
    lines: note.lines.map((line) => ({
      sku: line.sku,
      name: line.name,
      quantity: line.quantity,
      rate: line.taxRateBasisPoints,
      net: line.net,
      tax: line.tax,
    })),
    totals: note.totals,
    taxByRate: creditNoteTaxByRate(note),
    notes: [
      note.settlement === 'refund'
        ? `The amount of ${formatMoney(note.totals.total, note.currency)} is refunded to the card used for the order.`
        : `The amount of ${formatMoney(note.totals.total, note.currency)} is deducted from your open balance.`,
    ],
  });
}
