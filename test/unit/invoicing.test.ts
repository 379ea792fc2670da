import { describe, expect, it } from 'vitest';
import { CreditNoteRefused, type PaymentRefused } from '../../functions/core/errors.ts';
import { formatDocumentNumber, parseInvoiceNumber } from '../../functions/core/invoice-number.ts';
import {
  applyCredit,
  applyPayment,
  creditNoteLines,
  creditNoteTaxByRate,
  dueDateFor,
  isOverdue,
  netDaysOf,
} from '../../functions/core/invoicing.ts';
import { totalsOf } from '../../functions/core/pricing.ts';
import type { Invoice } from '../../functions/core/schemas.ts';

const line = (sku: string, quantity: number, unitPrice: number, rate: number) => {
  const lineSubtotal = quantity * unitPrice;
  return {
    sku,
    name: sku,
    quantity,
    unitPrice,
    taxRateBasisPoints: rate,
    lineSubtotal,
    lineTax: Math.round((lineSubtotal * rate) / 10_000),
  };
};
const lines = [line('A', 3, 333, 1900), line('B', 1, 1000, 700), line('C', 2, 500, 1900)];
const totals = (() => {
  const subtotal = lines.reduce((s, l) => s + l.lineSubtotal, 0);
  const tax = lines.reduce((s, l) => s + l.lineTax, 0);
  return { subtotal, tax, total: subtotal + tax };
})();
const invoice = (overrides: Partial<Invoice> = {}) =>
  ({
    invoiceNumber: 'INV-2026-000001',
    paymentMethod: 'on_account',
    status: 'open',
    lines,
    totals,
    amountPaid: 0,
    amountCredited: 0,
    dueDate: '2026-02-01T00:00:00.000Z',
    ...overrides,
  }) as Invoice;

describe('due date', () => {
  const issued = new Date('2026-01-31T10:00:00.000Z');
  it('is the issue date for card payments and issue date + net days on account (default 30)', () => {
    expect(dueDateFor(issued, 'card', 30).toISOString()).toBe('2026-01-31T10:00:00.000Z');
    expect(dueDateFor(issued, 'on_account', netDaysOf({ type: 'on_account', netDays: 14 })).toISOString()).toBe(
      '2026-02-14T10:00:00.000Z',
    );
    expect(netDaysOf({ type: 'card' })).toBe(30);
    expect(netDaysOf({ type: 'on_account', netDays: 60 })).toBe(60);
  });
  it('makes an open invoice overdue only once its due date passed', () => {
    expect(isOverdue(invoice(), new Date('2026-02-01T00:00:00.000Z'))).toBe(false);
    expect(isOverdue(invoice(), new Date('2026-02-01T00:00:00.001Z'))).toBe(true);
    expect(isOverdue(invoice({ status: 'paid' }), new Date('2027-01-01T00:00:00.000Z'))).toBe(false);
  });
});

describe('tax summary', () => {
  it("sums a credit note's net and tax per rate from its lines, highest rate first", () => {
    const noteLines = lines.map((l) => ({ ...l, net: l.lineSubtotal, tax: l.lineTax }));
    expect(creditNoteTaxByRate({ lines: noteLines })).toEqual([
      { rateBasisPoints: 1900, net: 999 + 1000, tax: 190 + 190 },
      { rateBasisPoints: 700, net: 1000, tax: 70 },
    ]);
  });
});

describe('document numbers', () => {
  it('formats and parses each series on its own', () => {
    expect(formatDocumentNumber('CN', 2026, 7)).toBe('CN-2026-000007');
    expect(parseInvoiceNumber('CN-2026-000007', 'CN')).toEqual({ year: 2026, sequence: 7 });
    expect(parseInvoiceNumber('CN-2026-000007')).toBeUndefined();
  });
});

describe('credit-note limits', () => {
  it('credits everything left without lines, and partial notes add up to the invoice to the cent', () => {
    let current = invoice({ paymentMethod: 'card', status: 'paid', amountPaid: totals.total });
    const issued: number[] = [];
    for (const quantity of [1, 1, 1]) {
      const note = creditNoteLines(current, [{ sku: 'A', quantity }]);
      issued.push(note.totals.total);
      current = { ...current, ...applyCredit(current, note) };
    }
    const rest = creditNoteLines(current);
    expect(rest.lines.map((l) => l.sku)).toEqual(['B', 'C']);
    current = { ...current, ...applyCredit(current, rest) };
    expect(issued.reduce((a, b) => a + b, 0) + rest.totals.total).toBe(totals.total);
    expect(current.amountCredited).toBe(totals.total);
    expect(current.status).toBe('credited');
    expect(() => creditNoteLines(current)).toThrow(CreditNoteRefused);
  });
  it('refuses more than a line has left, unknown SKUs, and on account more than is outstanding', () => {
    expect(() => creditNoteLines(invoice(), [{ sku: 'A', quantity: 4 }])).toThrow(/3 of 3 left/);
    expect(() => creditNoteLines(invoice(), [{ sku: 'Z', quantity: 1 }])).toThrow(/not on the invoice/);
    const partlyPaid = invoice({ amountPaid: totals.total - 100 });
    expect(() => creditNoteLines(partlyPaid)).toThrow(/exceeds the invoice's outstanding amount \(100\)/);
    expect(creditNoteLines(invoice({ paymentMethod: 'card', amountPaid: totals.total })).totals.total).toBe(
      totals.total,
    );
  });
});

describe('payment rules', () => {
  it('keeps a partly paid invoice open and turns it paid when the rest arrives', () => {
    const first = applyPayment(invoice(), 1000);
    expect(first).toEqual({ amountPaid: 1000, status: 'open', paidInFull: false });
    const second = applyPayment(invoice({ amountPaid: 1000 }), totals.total - 1000);
    expect(second).toEqual({ amountPaid: totals.total, status: 'paid', paidInFull: true });
    expect(applyPayment(invoice({ status: 'overdue' }), totals.total).status).toBe('paid');
  });
  it('refuses more than outstanding, card invoices and settled ones, saying why', () => {
    const refusal = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as PaymentRefused).reason;
      }
      return undefined;
    };
    expect(refusal(() => applyPayment(invoice({ amountCredited: 500 }), totals.total - 499))).toBe(
      'exceeds_outstanding',
    );
    expect(refusal(() => applyPayment(invoice({ paymentMethod: 'card' }), 1))).toBe('not_on_account');
    expect(refusal(() => applyPayment(invoice({ status: 'credited' }), 1))).toBe('not_open');
  });
});

describe('credit note VAT', () => {
  // Three lines of 333 at 7 %: 23 VAT each line by line, but 70 (not 69) on their sum, as invoiced.
  const priced = ['X', 'Y', 'Z'].map((sku) => ({
    ...line(sku, 1, 333, 700),
    taxCategory: 'reduced' as const,
    discountBasisPoints: 0,
    lineDiscount: 0,
  }));
  const perRate = invoice({ lines: priced, totals: totalsOf(priced), paymentMethod: 'card', status: 'paid' });

  it('takes back exactly the VAT invoiced per rate when the invoice is credited line by line', () => {
    expect(perRate.totals.tax).toBe(70);
    let current = perRate;
    const taxes: number[] = [];
    for (const sku of ['X', 'Y', 'Z']) {
      const note = creditNoteLines(current, [{ sku, quantity: 1 }]);
      taxes.push(note.totals.tax);
      current = { ...current, ...applyCredit(current, note) };
    }
    expect(taxes.reduce((sum, tax) => sum + tax, 0)).toBe(70);
    expect(current.amountCredited).toBe(perRate.totals.total);
  });

  it('never gives a line negative VAT: the cents go to the largest remainders', () => {
    // Four lines of net 3 at 19 %: 2 VAT on their sum, half a cent each line by line.
    const small = ['P', 'Q', 'R', 'S'].map((sku) => ({
      ...line(sku, 1, 3, 1900),
      taxCategory: 'standard' as const,
      discountBasisPoints: 0,
      lineDiscount: 0,
    }));
    const tiny = invoice({ lines: small, totals: totalsOf(small), paymentMethod: 'card', status: 'paid' });
    const taxAtRate = tiny.totals.taxByRate?.find((entry) => entry.rateBasisPoints === 1900)?.tax;
    expect(taxAtRate).toBe(2);
    const note = creditNoteLines(tiny);
    const lineTaxes = note.lines.map((l) => l.tax);
    expect(lineTaxes.every((tax) => tax >= 0)).toBe(true);
    expect(lineTaxes.reduce((sum, tax) => sum + tax, 0)).toBe(taxAtRate);
    expect(lineTaxes).toEqual([1, 1, 0, 0]);
  });

  it('takes back the whole invoice at once to the cent', () => {
    expect(creditNoteLines(perRate).totals).toMatchObject({ subtotal: 999, tax: 70, total: 1069 });
  });
});
