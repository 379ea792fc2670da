import { creditNoteTaxByRate, type TaxSummaryEntry } from '../core/invoicing.ts';
import { formatMoney, formatRate } from '../core/money.ts';
import type { CreditNote, Invoice, SellerDetails } from '../core/schemas.ts';
import { taxNote } from '../core/tax.ts';
import { PdfDocument } from './pdf/document.ts';
import { documentFonts } from './pdf/fonts.ts';

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

/** Where the line table's columns start (left-aligned) or end (right-aligned), in millimetres. */
const COLUMNS = { sku: 20, description: 48, quantity: 104, unitPrice: 132, vat: 137, net: 190 };
const GAP = 2;
/** A cell's text stops after this many lines (the last ends with "…"): a row never outgrows a page. */
const MAX_CELL_LINES = 8;
const MIN_VAT_WIDTH = 8;
/** Where the header's blocks are: document details at the left, the buyer at the right, the seller above. */
const HEADER = { top: 40, metaWidth: 95, buyer: 120, buyerWidth: 70, sellerWidth: 110 };
/** Lines continue on a new page below this baseline, and start at this one there. */
const PAGE_BOTTOM = 265;
const PAGE_TOP = 25;

/** The parts invoices and credit notes share: seller and buyer legal details, lines, tax summary, totals. */
function renderDocument(input: {
  title: string;
  issuedAt: string;
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
  const { seller, buyer } = input;
  const doc = new PdfDocument(documentFonts(), {
    title: input.title,
    creator: seller.legalName,
    createdAt: new Date(input.issuedAt),
  });
  const money = (amount: number) => formatMoney(amount, input.currency);
  // Every text is broken into lines that fit its block or column: nothing prints over anything else.
  const wrap = (lines: string[], width: number) => lines.flatMap((line) => doc.splitToWidth(line, width));

  doc
    .setFont('bold')
    .setFontSize(18)
    .text(input.title.split(' ')[0]?.toUpperCase() ?? '', 20, 22);
  doc.setFont('normal').setFontSize(9);
  const sellerLines = wrap(
    [seller.legalName, ...seller.address, `VAT ID: ${seller.vatId}`, seller.registration],
    HEADER.sellerWidth,
  );
  doc.text(sellerLines, 190, 15, { align: 'right' });
  const headerTop = Math.max(HEADER.top, 15 + sellerLines.length * doc.lineHeight + 4);
  doc.setFontSize(10);
  const metaLines = wrap(input.meta, HEADER.metaWidth);
  doc.text(metaLines, 20, headerTop);
  const address = buyer.address;
  const buyerLines = wrap(
    [
      buyer.name,
      address.name !== buyer.name ? address.name : '',
      address.line1,
      address.line2 ?? '',
      `${address.postalCode} ${address.city}`,
      address.country,
      buyer.vatId ? `VAT ID: ${buyer.vatId}` : '',
    ].filter(Boolean),
    HEADER.buyerWidth,
  );
  doc.text(buyerLines, HEADER.buyer, headerTop);

  let y = Math.max(90, headerTop + Math.max(metaLines.length, buyerLines.length) * doc.lineHeight + 10);
  /** Moves to a new page when `height` more millimetres below y would pass the page's bottom. */
  const page = (height = 0) => {
    if (y + height <= PAGE_BOTTOM) return false;
    doc.addPage();
    y = PAGE_TOP;
    return true;
  };
  const columnHeadings = () => {
    doc.setFont('bold');
    doc.text('SKU', COLUMNS.sku, y).text('Description', COLUMNS.description, y);
    doc
      .text('Qty', COLUMNS.quantity, y, { align: 'right' })
      .text('Unit price', COLUMNS.unitPrice, y, { align: 'right' })
      .text('VAT', COLUMNS.vat, y)
      .text('Net', COLUMNS.net, y, { align: 'right' });
    doc.line(20, y + 2, 190, y + 2);
    doc.setFont('normal');
  };
  page(7 + doc.lineHeight);
  columnHeadings();
  // The widest quantity (5 digits), so that the description column is the same on every row.
  const quantityWidth = doc.widthOf('00000');
  /** A cell's lines at `width`, at most MAX_CELL_LINES of them. */
  const cell = (text: string, width: number) => {
    const lines = doc.splitToWidth(text, width);
    if (lines.length <= MAX_CELL_LINES) return lines;
    // The last line shows what follows it up to the cell's edge: two more lines' worth is plenty to cut from.
    const rest = lines.slice(MAX_CELL_LINES - 1, MAX_CELL_LINES + 1).join(' ');
    return [...lines.slice(0, MAX_CELL_LINES - 1), doc.fitToWidth(rest, width)];
  };
  for (const line of input.lines) {
    // A long SKU, name, price or VAT category takes more lines in its cell; the row grows to the tallest.
    const net = money(line.net);
    const cells = {
      sku: cell(line.sku, COLUMNS.description - COLUMNS.sku - GAP),
      name: cell(line.name, COLUMNS.quantity - quantityWidth - COLUMNS.description - GAP),
      unitPrice:
        line.unitPrice === undefined ? [] : cell(money(line.unitPrice), COLUMNS.unitPrice - COLUMNS.quantity - GAP),
      // At least room for "19%" beside an absurdly large net amount.
      vat: cell(
        `${formatRate(line.rate)}${line.category ? ` ${line.category}` : ''}`,
        Math.max(COLUMNS.net - doc.widthOf(net) - COLUMNS.vat - GAP, MIN_VAT_WIDTH),
      ),
    };
    const extra = (Math.max(...Object.values(cells).map((lines) => lines.length)) - 1) * doc.lineHeight;
    // A row continues on a new page, under the column headings again.
    if (page(7 + extra)) columnHeadings();
    y += 7;
    doc
      .text(cells.sku, COLUMNS.sku, y)
      .text(cells.name, COLUMNS.description, y)
      .text(String(line.quantity), COLUMNS.quantity, y, { align: 'right' })
      .text(cells.unitPrice, COLUMNS.unitPrice, y, { align: 'right' })
      .text(cells.vat, COLUMNS.vat, y)
      .text(net, COLUMNS.net, y, { align: 'right' });
    y += extra;
  }
  y += 5;
  doc.line(20, y, 190, y);
  y += 6;
  // The summary's heading stays with its rates, the totals with each other.
  page(6 * input.taxByRate.length);
  doc.setFont('bold').text('VAT summary', 20, y);
  doc.setFont('normal');
  for (const entry of input.taxByRate) {
    y += 6;
    doc
      .text(`VAT ${formatRate(entry.rateBasisPoints)} on ${money(entry.net)}`, 20, y)
      .text(money(entry.tax), 100, y, { align: 'right' });
  }
  y += 8;
  page(input.totals.discount ? 19 : 13);
  if (input.totals.discount) {
    // The nets above are after the customer's discount; say how much it was.
    doc.text('Discount included', 120, y).text(money(-input.totals.discount), 190, y, { align: 'right' });
    y += 6;
  }
  doc.text('Subtotal (net)', 120, y).text(money(input.totals.subtotal), 190, y, { align: 'right' });
  y += 6;
  doc.text('VAT', 120, y).text(money(input.totals.tax), 190, y, { align: 'right' });
  y += 7;
  doc.setFont('bold').text('Total', 120, y).text(money(input.totals.total), 190, y, { align: 'right' });
  doc.setFont('normal').setFontSize(9);
  y += 12;
  for (const note of input.notes) {
    const wrapped = doc.splitToWidth(note, 170);
    page((wrapped.length - 1) * doc.lineHeight);
    doc.text(wrapped, 20, y);
    y += doc.lineHeight * wrapped.length + 1;
  }
  return doc.output();
}

/** Renders the invoice as an A4 PDF: seller and buyer legal details, due date, lines, VAT per rate, status. */
export function renderInvoicePdf(invoice: Invoice): Uint8Array {
  const seller = invoice.seller;
  const onAccount = invoice.paymentMethod === 'on_account';
  return renderDocument({
    title: `Invoice ${invoice.invoiceNumber}`,
    issuedAt: invoice.issuedAt,
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
    issuedAt: note.issuedAt,
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
