import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type EmailAttachment,
  isOrderCsv,
  locateProblems,
  parseEmailOrder,
  problemLine,
} from '../../functions/core/email-order.ts';

const customerId = 'CUST-1001';
const read = (text: string | undefined, attachments: EmailAttachment[] = []) =>
  parseEmailOrder({ customerId, ...(text === undefined ? {} : { text }), attachments });
const problems = (text: string | undefined, attachments: EmailAttachment[] = []) => {
  const result = read(text, attachments);
  if (result.ok) throw new Error(`expected problems, got ${JSON.stringify(result.entry)}`);
  return result.problems.map(problemLine);
};
const csv = (content: string, filename: string | null = 'order.csv', mimeType = 'text/csv'): EmailAttachment => ({
  filename,
  mimeType,
  content,
});

describe('the order e-mail body', () => {
  it('reads the reference, payment, policy and item lines, ignoring blank lines and case', () => {
    const result = read(
      [
        '',
        'reference:  PO-2026-0042 ',
        'PAYMENT: On Account',
        'Policy: ship-available',
        '',
        'WIDGET-BLUE x 2',
        '  gadget-mini X 1 @ 3900  ',
        'CABLE-USB-C x10@990',
        'DOCK-4K × 1',
      ].join('\r\n'),
    );
    expect(result).toEqual({
      ok: true,
      entry: {
        customerId,
        externalReference: 'PO-2026-0042',
        payment: 'on_account',
        fulfilmentPolicy: 'ship_available',
        lines: [
          { sku: 'WIDGET-BLUE', quantity: 2 },
          { sku: 'GADGET-MINI', quantity: 1, unitPrice: 3900 },
          { sku: 'CABLE-USB-C', quantity: 10, unitPrice: 990 },
          { sku: 'DOCK-4K', quantity: 1 },
        ],
      },
      sources: {
        externalReference: { where: 'line 2', rank: 2 },
        payment: { where: 'line 3', rank: 3 },
        fulfilmentPolicy: { where: 'line 4', rank: 4 },
        'lines.0': { where: 'line 6', rank: 6 },
        'lines.1': { where: 'line 7', rank: 7 },
        'lines.2': { where: 'line 8', rank: 8 },
        'lines.3': { where: 'line 9', rank: 9 },
      },
    });
  });

  it.each([
    ['a signature separator', 'WIDGET-BLUE x 1\n-- \nJane Doe\nCEO x 2'],
    ['a signature separator without its space', 'WIDGET-BLUE x 1\n--\nJane Doe'],
    ['a quoted reply', 'WIDGET-BLUE x 1\n> GADGET-PRO x 5\n> earlier text'],
    ['a quoted reply with its attribution line', 'WIDGET-BLUE x 1\n\nOn Mon, 2 Mar 2026, Sales wrote:\n\n> hi'],
    ['an original-message marker', 'WIDGET-BLUE x 1\n-----Original Message-----\nFrom: x'],
  ])('stops reading at %s', (_, text) => {
    expect(read(text)).toMatchObject({ ok: true, entry: { lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }] } });
  });

  it('names every bad line by its number, in order, and places no order', () => {
    const body = [
      'Hello team,', // 1
      '', // 2
      'WIDGET-BLUE x two', // 3
      'GADGET-MINI x 0', // 4
      'widget blue x 2', // 5
      'DOCK-4K x 1 @ 12.50', // 6
      '2 x MOUSE-ERGO', // 7
      'Payment: invoice', // 8
      'Policy: asap', // 9
      'Reference: PO-1', // 10
      'Reference: PO-2', // 11
      'Reference:', // 12
      'CABLE-USB-C x 1 @ 99999999999999999999', // 13
      'MONITOR-27 x 20000', // 14
      'Thanks, Jane', // 15
    ].join('\n');
    expect(problems(body)).toEqual([
      'line 1: "Hello team," is not an order line; expected "SKU x QUANTITY [@ UNIT PRICE]", "Reference: …", "Payment: …" or "Policy: …"',
      'line 3: quantity "two" is not a whole number',
      'line 4: quantity must be at least 1',
      'line 5: "widget blue x 2" is not an order line; expected "SKU x QUANTITY [@ UNIT PRICE]", "Reference: …", "Payment: …" or "Policy: …"',
      'line 6: unit price "12.50" must be a whole number of cents (minor units), e.g. 1250 for 12.50',
      'line 7: write the SKU first, then the quantity: "MOUSE-ERGO x 2"',
      'line 8: Payment "invoice" must be card or on_account',
      'line 9: Policy "asap" must be all_or_nothing or ship_available',
      'line 11: Reference is given twice (first on line 10)',
      'line 12: Reference is given twice (first on line 10)',
      'line 13: unit price "99999999999999999999" is too large',
      'line 14: quantity must be at most 10000',
      'line 15: "Thanks, Jane" is not an order line; expected "SKU x QUANTITY [@ UNIT PRICE]", "Reference: …", "Payment: …" or "Policy: …"',
    ]);
  });

  it('checks each field of a line: a bad SKU and a bad quantity on one line are two problems', () => {
    expect(problems('W! x 1.5')).toEqual([
      'line 1: SKU "W!" must be 2-40 upper-case letters, digits or dashes',
      'line 1: quantity "1.5" is not a whole number',
    ]);
  });

  it('refuses an empty reference, a reference with a tab, and one over 100 characters, by line', () => {
    expect(problems('Reference:   \nWIDGET-BLUE x 1')).toEqual(['line 1: Reference is empty']);
    expect(problems('Reference: PO\t1\nWIDGET-BLUE x 1')).toEqual([
      'line 1: Reference must not contain control characters (line breaks, tabs, NUL)',
    ]);
    expect(problems(`Reference: ${'R'.repeat(101)}\nWIDGET-BLUE x 1`)).toEqual([
      'line 1: Reference must be at most 100 characters',
    ]);
  });

  it('quotes a long bad line shortened and without control characters', () => {
    const [problem] = problems(`${'blah '.repeat(30)}\u0007`);
    expect(problem).toMatch(/^line 1: "(blah ){12}…" is not an order line/);
  });

  it('says so when there are no order lines, or no plain-text part', () => {
    expect(problems('Reference: PO-1\n\n-- \nJane')).toEqual([
      'the e-mail has no order lines: write them as "SKU x QUANTITY" or attach a CSV file (sku,quantity[,unitPrice])',
    ]);
    expect(problems(undefined)).toEqual([
      'the e-mail has no plain-text part and no CSV attachment: send the order as plain text or attach a CSV file',
    ]);
  });

  it('does not add "no order lines" when the item lines were all unreadable', () => {
    expect(problems('WIDGET-BLUE x lots')).toEqual(['line 1: quantity "lots" is not a whole number']);
  });

  it('refuses more than 50 lines as one problem of the order', () => {
    const body = Array.from({ length: 51 }, (_, i) => `SKU-${i} x 1`).join('\n');
    expect(problems(body)).toEqual(['the order must contain at most 50 lines']);
  });
});

describe('the CSV attachment', () => {
  it('adds its rows, with or without a header, in either column order, with , or ;', () => {
    const result = read('Reference: PO-9', [
      csv('\uFEFFsku,quantity,unitPrice\r\nWIDGET-BLUE,2,\r\n\r\n"GADGET-MINI",1,3900\r\n'),
      csv('quantity;SKU\n3;cable-usb-c\n', 'more.CSV', 'application/vnd.ms-excel'),
      csv('DOCK-4K,1\n', null, 'text/csv'),
    ]);
    expect(result).toMatchObject({
      ok: true,
      entry: {
        externalReference: 'PO-9',
        lines: [
          { sku: 'WIDGET-BLUE', quantity: 2 },
          { sku: 'GADGET-MINI', quantity: 1, unitPrice: 3900 },
          { sku: 'CABLE-USB-C', quantity: 3 },
          { sku: 'DOCK-4K', quantity: 1 },
        ],
      },
      sources: {
        'lines.0': { where: 'order.csv line 2' },
        'lines.1': { where: 'order.csv line 4' },
        'lines.2': { where: 'more.CSV line 2' },
        'lines.3': { where: 'attachment 3 line 1' },
      },
    });
    if (result.ok) expect(result.entry.lines[0]).not.toHaveProperty('unitPrice');
  });

  it('adds to the lines of the body, body first', () => {
    const result = read('WIDGET-BLUE x 1', [csv('GADGET-PRO,2')]);
    expect(result.ok && result.entry.lines.map((l) => l.sku)).toEqual(['WIDGET-BLUE', 'GADGET-PRO']);
  });

  it('names every bad row by file and line', () => {
    const content = [
      'sku,quantity,unitPrice', // 1
      'WIDGET-BLUE,two,', // 2
      'GADGET-MINI', // 3
      'DOCK-4K,1,2,3', // 4
      '"MONITOR-27,1', // 5
      'KEYBOARD-MX,1,11.90', // 6
      'MOUSE-ERGO,1,5900', // 7
    ].join('\n');
    expect(problems('Reference: PO-1\nfoo', [csv(content)])).toEqual([
      'line 2: "foo" is not an order line; expected "SKU x QUANTITY [@ UNIT PRICE]", "Reference: …", "Payment: …" or "Policy: …"',
      'order.csv line 2: quantity "two" is not a whole number',
      'order.csv line 3: has 1 column; expected sku,quantity[,unitPrice]',
      'order.csv line 4: has 4 columns; expected sku,quantity[,unitPrice]',
      'order.csv line 5: a quote is not closed',
      'order.csv line 6: unit price "11.90" must be a whole number of cents (minor units), e.g. 1250 for 12.50',
    ]);
  });

  it('refuses a header with an unknown column or without a quantity, and leaves its rows unread', () => {
    expect(problems(undefined, [csv('sku,qty,colour\nWIDGET-BLUE,1,blue')])).toEqual([
      'order.csv line 1: unknown column "colour"; expected sku,quantity[,unitPrice]',
    ]);
    expect(problems(undefined, [csv('sku,price\nWIDGET-BLUE,1')])[0]).toBe(
      'order.csv line 1: the header has no quantity column',
    );
  });

  it('reads only CSV attachments: a .csv name or a CSV media type', () => {
    expect(isOrderCsv({ filename: 'order.csv', mimeType: 'application/octet-stream' })).toBe(true);
    expect(isOrderCsv({ filename: null, mimeType: 'text/csv' })).toBe(true);
    expect(isOrderCsv({ filename: 'logo.png', mimeType: 'image/png' })).toBe(false);
    expect(isOrderCsv({ filename: 'order.pdf', mimeType: 'application/pdf' })).toBe(false);
    expect(read('WIDGET-BLUE x 1', [csv('%PDF-1.7', 'order.pdf', 'application/pdf')])).toMatchObject({ ok: true });
  });
});

describe("the intake's problems, named by line", () => {
  it('maps entry paths back to the e-mail line or CSV row and sorts them', () => {
    const result = read('Payment: card\nWIDGET-BLUE x 1\nLAMP-LED x 1', [csv('WIDGET-BLUE,2')]);
    if (!result.ok) throw new Error('expected an entry');
    expect(
      locateProblems(
        [
          { path: 'lines.2.sku', message: 'appears more than once; combine the lines' },
          { path: 'lines.1.sku', message: 'product LAMP-LED is not sold' },
          { path: 'payment', message: 'the customer has no card on file; bill on account or order by web checkout' },
          { path: 'lines', message: 'must contain at most 25 lines with fulfilmentPolicy ship_available' },
        ],
        result.sources,
      ).map(problemLine),
    ).toEqual([
      'the order must contain at most 25 lines with fulfilmentPolicy ship_available',
      'line 1: the customer has no card on file; bill on account or order by web checkout',
      'line 3: product LAMP-LED is not sold',
      'order.csv line 1: SKU appears more than once; combine the lines',
    ]);
  });
});

describe('properties', () => {
  const sku = fc.stringMatching(/^[A-Z0-9][A-Z0-9-]{1,20}$/);
  const item = fc.record({
    sku,
    quantity: fc.integer({ min: 1, max: 10_000 }),
    unitPrice: fc.option(fc.integer({ min: 0, max: 10_000_000 }), { nil: undefined }),
  });

  it('well-formed lines are read back exactly, wherever blank lines fall', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(item, fc.boolean()), { minLength: 1, maxLength: 50 }), (items) => {
        const body = items
          .map(
            ([l, blank]) =>
              `${l.sku} x ${l.quantity}${l.unitPrice === undefined ? '' : ` @ ${l.unitPrice}`}${blank ? '\n' : ''}`,
          )
          .join('\n');
        const result = read(body);
        expect(result.ok).toBe(true);
        if (result.ok)
          expect(result.entry.lines).toEqual(
            items.map(([l]) => (l.unitPrice === undefined ? { sku: l.sku, quantity: l.quantity } : l)),
          );
      }),
      { numRuns: 100 },
    );
  });

  it('a body with any malformed line is refused, naming that line', () => {
    const bad = fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => `~${s.replace(/[\r\n\u0085\u2028\u2029]/g, ' ')}`),
      item.map((l) => `${l.sku} x ${l.quantity}.5`),
      item.map((l) => `${l.sku} x ${l.quantity} @ ${l.unitPrice ?? 0}.99`),
      item.map((l) => `${l.sku} x 0`),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 10 }), bad, fc.nat(), (items, badLine, at) => {
        const lines = items.map((l) => `${l.sku} x ${l.quantity}`);
        const position = at % (lines.length + 1);
        lines.splice(position, 0, badLine);
        const result = read(lines.join('\n'));
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.problems.map((p) => p.where)).toContain(`line ${position + 1}`);
      }),
      { numRuns: 100 },
    );
  });
});
