import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { describe, expect, it } from 'vitest';
import { renderInvoicePdf } from '../../functions/adapters/invoice-pdf.ts';
import { documentFonts } from '../../functions/adapters/pdf/fonts.ts';
import type { Invoice } from '../../functions/core/schemas.ts';
import { SELLER } from '../../functions/core/seller.ts';
import { pdfText } from '../support/pdf-text.ts';

const invoice: Invoice = {
  invoiceNumber: 'INV-2026-000042',
  orderId: 'ord-0123456789abcdefghijklmnop',
  shipmentId: 'ord-0123456789abcdefghijklmnop-A1',
  customerId: 'CUST-2001',
  customerName: 'Łukasz Żółć',
  customerEmail: 'lukasz@example.com',
  issuedAt: '2026-11-29T10:00:00.000Z',
  currency: 'EUR',
  lines: [
    {
      sku: 'WIDGET-BLUE',
      name: 'Widget – синий',
      quantity: 2,
      unitPrice: 1250,
      taxCategory: 'standard',
      taxRateBasisPoints: 1900,
      discountBasisPoints: 0,
      lineDiscount: 0,
      lineSubtotal: 2500,
      lineTax: 475,
    },
  ],
  totals: {
    subtotal: 2500,
    discount: 0,
    tax: 475,
    total: 2975,
    taxByRate: [{ rateBasisPoints: 1900, net: 2500, tax: 475 }],
  },
  billingAddress: {
    name: 'Łódź Żółć Ñandú',
    line1: 'Οδός Ερμού 12',
    line2: 'ул. Тверская 7',
    city: 'Москва',
    postalCode: '125009',
    country: 'RU',
  },
  paymentMethod: 'on_account',
  seller: { ...SELLER, address: ['Αθήνα'] },
  dueDate: '2026-12-29T10:00:00.000Z',
  status: 'open',
  amountPaid: 0,
  amountCredited: 0,
  customerVatId: 'DE811907980',
  taxTreatment: 'reverse_charge',
};

describe('invoice PDF', () => {
  it('embeds fonts with a glyph for every character of the scripts customers write names and addresses in', () => {
    const samples = [
      'Łódź Żółć Ñandú Æøå Straße ÿ Ősz Čeština Ľudovít', // Latin-1, Latin Extended-A
      'Ștefan Țărănuș', // Romanian comma below (Latin Extended-B)
      'Ağaoğlu İşçi Məmmədov', // Turkish, Azerbaijani schwa
      'Nguyễn Văn Đức Trường', // Vietnamese (Latin Extended Additional)
      'Ελληνικά Άγιος Ώρα ΐ', // Greek
      'Москва Ґрунт Її Єє Ўў Ђђ Ԁԁ', // Cyrillic and its supplement
      '€ £ ¥ ₹ ₺ ₽ № ™ – — „quoted“ ‘single’ … • −', // currency, punctuation, letterlike
    ];
    for (const [style, font] of Object.entries(documentFonts())) {
      const missing = [...samples.join('')].filter((c) => font.glyphOf(c.codePointAt(0) as number) === 0);
      expect({ style, missing }).toEqual({ style, missing: [] });
    }
  });

  it('stays small: only the glyphs the document uses are embedded, streams deflated', () => {
    // With the complete Noto Sans fonts an invoice was 238 KB; jsPDF wrote this one in 57 KB.
    expect(renderInvoicePdf(invoice).byteLength).toBeLessThan(40_000);
  });

  it('is the same file for the same invoice (a retried render stores the same bytes)', () => {
    expect(Buffer.from(renderInvoicePdf(invoice)).equals(Buffer.from(renderInvoicePdf(structuredClone(invoice))))).toBe(
      true,
    );
  });

  it('opens in a PDF reader (pdf.js) without warnings, with its text, fonts, metadata and right-aligned amounts', async () => {
    const { info, pages, fonts, warnings } = await readWithPdfJs(renderInvoicePdf(invoice));
    expect(warnings).toEqual([]);
    expect(info).toMatchObject({ Title: 'Invoice INV-2026-000042', Creator: SELLER.legalName });
    const items = pages[0] ?? [];
    const text = items.map((item) => item.text);
    for (const expected of ['INVOICE', 'Łódź Żółć Ñandú', 'ул. Тверская 7', 'Widget – синий', 'EUR 29.75'])
      expect(text).toContain(expected);
    // Amounts end at the right margin (190 mm), placed with the widths the PDF states for its glyphs.
    for (const amount of ['EUR 25.00', 'EUR 4.75', 'EUR 29.75']) {
      const ends = items.filter((item) => item.text === amount).map((item) => item.right);
      expect(
        ends.some((end) => Math.abs(end - 190) < 0.2),
        `${amount} ends at ${ends}`,
      ).toBe(true);
    }
    // The fonts as pdf.js loaded them: embedded (not substituted), under their PostScript names.
    expect(fonts.map((font) => font.name.replace(/^[A-Z]{6}\+/, '')).sort()).toEqual([
      'NotoSans-Bold',
      'NotoSans-Regular',
    ]);
    expect(fonts.filter((font) => font.missingFile)).toEqual([]);
  });

  it('breaks long SKUs, names, prices and addresses into lines that fit: nothing overlaps, nothing is lost', async () => {
    const long: Invoice = {
      ...invoice,
      customerName: 'Przedsiębiorstwo Handlowo-Usługowe „Żółć” Spółka z ograniczoną odpowiedzialnością',
      billingAddress: {
        ...invoice.billingAddress,
        line1: 'Aleja Jana Pawła II 123, Budynek C, klatka schodowa 4, piętro 7, lokal 712 (wejście od podwórza)',
      },
      seller: {
        ...SELLER,
        address: [
          'Industriepark Höchst, Gebäude C 770, Brüningstraße 50, Tor Nord, Anlieferung über Zufahrt 3',
          '65926 Frankfurt am Main',
          'Deutschland',
        ],
      },
      lines: Array.from({ length: 40 }, (_, i) => ({
        ...(invoice.lines[0] as Invoice['lines'][number]),
        sku: `INDUSTRIAL-WIDGET-LONG-IDENTIFIER-${i}`,
        name: `Industrial widget,\tblue,\nwith a long descriptive name that runs past its column ${i}`,
        quantity: 10_000,
        unitPrice: 123_456_789,
      })),
    };
    const pdf = renderInvoicePdf(long);
    const { pages, warnings } = await readWithPdfJs(pdf);
    expect(warnings).toEqual([]);
    expect(pages.length).toBeGreaterThan(2);
    expect(layoutProblems(pages)).toEqual([]);
    // Every SKU, name and amount is there in full, across the lines of its cell; a tab prints as a space.
    const pieces = pdfText(pdf);
    for (let i = 0; i < 40; i++) expect(pieces.join('')).toContain(`INDUSTRIAL-WIDGET-LONG-IDENTIFIER-${i}`);
    const text = pieces.join(' ');
    expect(text).toContain('Industrial widget, blue, with a long descriptive name that runs past its column 39');
    expect(text).toContain('EUR 1,234,567.89');
    expect(text).toContain('Aleja Jana Pawła II 123, Budynek C, klatka schodowa 4, piętro 7, lokal 712');
    expect(text).toContain('Industriepark Höchst, Gebäude C 770, Brüningstraße 50, Tor Nord,');
    expect(text).not.toContain('\uFFFD');
    // Every page with rows of the table has the column headings.
    for (const items of pages.filter((page) => page.some((item) => item.text.startsWith('INDUSTRIAL-'))))
      expect(items.map((item) => item.text)).toContain('Description');
  });

  it('ends a cell longer than 8 lines with "…", so that no row outgrows a page', async () => {
    const name = Array.from({ length: 600 }, (_, i) => `part${i}`).join(' ');
    const pdf = renderInvoicePdf({
      ...invoice,
      lines: [{ ...(invoice.lines[0] as Invoice['lines'][number]), name }],
    });
    const { pages } = await readWithPdfJs(pdf);
    expect(layoutProblems(pages)).toEqual([]);
    const cell = (pages[0] ?? []).filter((item) => item.text.startsWith('part'));
    expect(cell).toHaveLength(8);
    expect(cell.at(-1)?.text).toMatch(/…$/);
  });

  it('keeps the VAT summary and the totals together, above the page bottom, however the lines end', async () => {
    for (let count = 16; count <= 28; count++) {
      const document: Invoice = {
        ...invoice,
        lines: Array.from({ length: count }, (_, i) => ({
          ...(invoice.lines[0] as Invoice['lines'][number]),
          sku: `SKU-${i}`,
        })),
        totals: {
          ...invoice.totals,
          discount: 125,
          taxByRate: [
            { rateBasisPoints: 1900, net: 2000, tax: 380 },
            { rateBasisPoints: 700, net: 300, tax: 21 },
            { rateBasisPoints: 0, net: 200, tax: 0 },
          ],
        },
      };
      const { pages } = await readWithPdfJs(renderInvoicePdf(document));
      expect({ count, problems: layoutProblems(pages) }).toEqual({ count, problems: [] });
      const summaryPage = pages.find((items) => items.some((item) => item.text === 'VAT summary')) ?? [];
      for (const rate of ['VAT 19% on', 'VAT 7% on', 'VAT 0% on'])
        expect(
          summaryPage.some((item) => item.text.startsWith(rate)),
          `${count} lines: ${rate}`,
        ).toBe(true);
      const totalsPage = pages.find((items) => items.some((item) => item.text === 'Total')) ?? [];
      expect(
        totalsPage.some((item) => item.text === 'Subtotal (net)'),
        `${count} lines`,
      ).toBe(true);
    }
  });

  it('renders names and addresses in Latin, Greek and Cyrillic scripts as they were typed', () => {
    const lines = pdfText(renderInvoicePdf(invoice));
    for (const expected of [
      'Łódź Żółć Ñandú',
      'Οδός Ερμού 12',
      'ул. Тверская 7',
      '125009 Москва',
      'Αθήνα',
      'Widget – синий',
      'INV-2026-000042',
      'EUR 29.75',
      'Due date: 2026-12-29',
      'VAT ID: DE811907980',
      `VAT ID: ${SELLER.vatId}`,
      SELLER.registration,
      'Status: open',
      'VAT 19% on EUR 25.00',
      'Reverse charge: VAT to be accounted for by the recipient',
    ])
      expect(lines.join('\n')).toContain(expected);
  });

  it('shows the VAT per rate and the discount included', () => {
    const mixed: Invoice = {
      ...invoice,
      lines: [
        {
          ...(invoice.lines[0] as Invoice['lines'][number]),
          discountBasisPoints: 500,
          lineDiscount: 125,
          lineSubtotal: 2375,
        },
        {
          sku: 'BOOK-SETUP',
          name: 'Setup guide',
          quantity: 1,
          unitPrice: 2490,
          taxCategory: 'reduced',
          taxRateBasisPoints: 700,
          discountBasisPoints: 500,
          lineDiscount: 125,
          lineSubtotal: 2365,
          lineTax: 166,
        },
      ],
      totals: {
        subtotal: 4740,
        discount: 250,
        tax: 617,
        total: 5357,
        taxByRate: [
          { rateBasisPoints: 1900, net: 2375, tax: 451 },
          { rateBasisPoints: 700, net: 2365, tax: 166 },
        ],
      },
      taxTreatment: 'domestic',
    };
    const text = pdfText(renderInvoicePdf(mixed)).join('\n');
    for (const expected of [
      'VAT 19% on EUR 23.75',
      'EUR 4.51',
      'VAT 7% on EUR 23.65',
      'EUR 1.66',
      '-EUR 2.50',
      'EUR 53.57',
    ])
      expect(text).toContain(expected);
    expect(text).not.toContain('Reverse charge');
  });

  it.each([
    ['reverse_charge', 'Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)'],
    ['export', 'Export delivery outside the EU: zero-rated'],
    ['exempt', 'VAT exempt'],
  ] as const)('carries the %s note and the customer VAT id', (taxTreatment, note) => {
    const zeroRated: Invoice = {
      ...invoice,
      lines: [{ ...(invoice.lines[0] as Invoice['lines'][number]), taxRateBasisPoints: 0, lineTax: 0 }],
      totals: {
        subtotal: 2500,
        discount: 0,
        tax: 0,
        total: 2500,
        taxByRate: [{ rateBasisPoints: 0, net: 2500, tax: 0 }],
      },
      taxTreatment,
      customerVatId: 'FR40303265045',
    };
    const text = pdfText(renderInvoicePdf(zeroRated)).join(' ').replace(/\s+/g, ' ');
    expect(text).toContain(note);
    expect(text).toContain('VAT ID: FR40303265045');
    expect(text).toContain('VAT 0% on EUR 25.00');
  });
});

/**
 * What a reader would see wrong: a text outside the margins or below the last baseline (265 mm), or two
 * texts whose boxes (the line's height, the text's width) intersect.
 */
function layoutProblems(pages: PlacedText[][]): string[] {
  const problems: string[] = [];
  for (const [number, items] of pages.entries()) {
    for (const [i, item] of items.entries()) {
      if (item.left < 19.9 || item.right > 190.1 || item.baseline > 265.5)
        problems.push(`page ${number + 1}: "${item.text}" outside the margins`);
      for (const other of items.slice(i + 1))
        if (
          Math.abs(other.baseline - item.baseline) < 3.5 &&
          other.left < item.right - 0.01 &&
          item.left < other.right - 0.01
        )
          problems.push(`page ${number + 1}: "${item.text}" and "${other.text}" overlap`);
    }
  }
  return problems;
}

interface PlacedText {
  text: string;
  /** Millimetres from the left edge and, for the baseline, from the top, as the renderer places them. */
  left: number;
  right: number;
  baseline: number;
}

/** The PDF as pdf.js (Mozilla's reader) reads it: metadata, each page's text items, the fonts, its warnings. */
async function readWithPdfJs(pdf: Uint8Array) {
  const warnings: unknown[] = [];
  const original = { log: console.log, warn: console.warn };
  console.log = console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
  try {
    const document = await getDocument({ data: pdf.slice(), verbosity: 1 }).promise;
    const info = (await document.getMetadata()).info as Record<string, unknown>;
    const mm = (points: number) => (points * 25.4) / 72;
    const pages: PlacedText[][] = [];
    const fonts = new Map<string, { name: string; missingFile: boolean }>();
    for (let number = 1; number <= document.numPages; number++) {
      const page = await document.getPage(number);
      await page.getOperatorList(); // loads the fonts
      const items = (await page.getTextContent()).items.flatMap((item) => ('str' in item ? [item] : []));
      for (const item of items)
        fonts.set(item.fontName, page.commonObjs.get(item.fontName) as { name: string; missingFile: boolean });
      pages.push(
        items
          .filter((item) => item.str.trim())
          .map((item) => ({
            text: item.str,
            left: mm(item.transform[4]),
            right: mm(item.transform[4] + item.width),
            baseline: mm((page.view[3] as number) - item.transform[5]),
          })),
      );
    }
    const unique = new Map([...fonts.values()].map((font) => [font.name, font]));
    return { info, pages, fonts: [...unique.values()], warnings };
  } finally {
    Object.assign(console, original);
  }
}
