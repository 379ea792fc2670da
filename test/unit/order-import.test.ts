import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ImportOrder, importKey, planImport, refusedRows } from '../../functions/core/order-import.ts';
import { IdempotencyKey } from '../../functions/core/schemas.ts';

/** The bulk import's parsing and grouping: rows sharing a reference form one order. */
const HEADER = 'reference,customerId,sku,quantity,unitPrice,payment';
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n');
const plan = (text: string) => {
  const result = planImport(text);
  if (!result.ok) throw new Error(`file refused: ${result.problems.join('; ')}`);
  return result;
};

describe('planImport', () => {
  it('groups the rows of a reference into one order entry, keyed by the reference', () => {
    const result = plan(
      csv(
        'PO-1,CUST-1001,WIDGET-BLUE,10,,on_account',
        'PO-2,CUST-1002,GADGET-MINI,1,3500,card',
        'PO-1,CUST-1001,CABLE-USB-C,20,,on_account',
      ),
    );
    expect(result.failures).toEqual([]);
    expect(result.rows).toBe(3);
    expect(result.orders).toEqual([
      {
        reference: 'PO-1',
        key: 'import:PO-1',
        rows: [2, 4],
        entry: {
          customerId: 'CUST-1001',
          externalReference: 'PO-1',
          lines: [
            { sku: 'WIDGET-BLUE', quantity: 10 },
            { sku: 'CABLE-USB-C', quantity: 20 },
          ],
          payment: 'on_account',
        },
      },
      {
        reference: 'PO-2',
        key: 'import:PO-2',
        rows: [3],
        entry: {
          customerId: 'CUST-1002',
          externalReference: 'PO-2',
          lines: [{ sku: 'GADGET-MINI', quantity: 1, unitPrice: 3500 }],
          payment: 'card',
        },
      },
    ]);
  });

  it('reads the optional columns: currency, policy and a ship-to address', () => {
    const result = plan(
      [
        'reference,customerId,sku,quantity,currency,fulfilmentPolicy,shipToName,shipToLine1,shipToLine2,shipToPostalCode,shipToCity,shipToCountry',
        'PO-9,CUST-1001,WIDGET-BLUE,1,CHF,ship_available,Acme Zürich,Bahnhofstr. 1,"Floor 2, Gate B",8001,Zürich,CH',
      ].join('\r\n'),
    );
    expect(result.orders[0]?.entry).toEqual({
      customerId: 'CUST-1001',
      externalReference: 'PO-9',
      lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }],
      currency: 'CHF',
      fulfilmentPolicy: 'ship_available',
      shippingAddress: {
        name: 'Acme Zürich',
        line1: 'Bahnhofstr. 1',
        line2: 'Floor 2, Gate B',
        postalCode: '8001',
        city: 'Zürich',
        country: 'CH',
      },
    });
  });

  it("reports a bad row with its column and reason, and the order's other rows with the row that failed it", () => {
    const result = plan(
      csv(
        'PO-1,CUST-1001,WIDGET-BLUE,two,,on_account',
        'PO-1,CUST-1001,CABLE-USB-C,1,,on_account',
        'PO-2,CUST-1001,GADGET-MINI,1,12.50,cash',
        'PO-3,CUST-1001,DOCK-4K,1,,',
      ),
    );
    expect(result.orders.map((o) => o.reference)).toEqual(['PO-3']);
    expect(result.failures).toEqual([
      { row: 2, reference: 'PO-1', reasons: ['quantity: must be a whole number, at least 1'] },
      { row: 3, reference: 'PO-1', reasons: ['row 2 of this order is invalid'] },
      {
        row: 4,
        reference: 'PO-2',
        reasons: [
          'unitPrice: must be a whole amount in minor units (cents), e.g. 1250 for 12.50',
          'payment: must be card or on_account',
        ],
      },
    ]);
  });

  it('refuses the rows of an order whose order-level columns disagree', () => {
    const result = plan(
      csv(
        'PO-1,CUST-1001,WIDGET-BLUE,1,,on_account',
        'PO-1,CUST-1003,CABLE-USB-C,1,,on_account',
        'PO-1,CUST-1001,GADGET-MINI,1,,card',
      ),
    );
    expect(result.orders).toEqual([]);
    expect(result.failures).toEqual([
      { row: 2, reference: 'PO-1', reasons: ['rows 3, 4 of this order are invalid'] },
      {
        row: 3,
        reference: 'PO-1',
        reasons: ['customerId: differs from row 2 of order PO-1; an order has one customerId'],
      },
      { row: 4, reference: 'PO-1', reasons: ['payment: differs from row 2 of order PO-1; an order has one payment'] },
    ]);
  });

  it('refuses a SKU twice in one order (a duplicated row), naming the row it repeats', () => {
    const result = plan(
      csv('PO-1,CUST-1001,BOOK-SETUP,3,,', 'PO-1,CUST-1001,BOOK-SETUP,3,,', 'PO-2,CUST-1001,BOOK-SETUP,3,,'),
    );
    expect(result.orders.map((o) => o.reference)).toEqual(['PO-2']);
    expect(result.failures).toEqual([
      { row: 2, reference: 'PO-1', reasons: ['row 3 of this order is invalid'] },
      { row: 3, reference: 'PO-1', reasons: ['sku: BOOK-SETUP is in row 2 of this order too; combine the lines'] },
    ]);
  });

  it('refuses a partial ship-to address and a row with the wrong number of fields', () => {
    const result = plan(
      [
        'reference,customerId,sku,quantity,shipToName,shipToLine1,shipToPostalCode,shipToCity,shipToCountry',
        'PO-1,CUST-1001,WIDGET-BLUE,1,Acme,,,Berlin,DE',
        'PO-2,CUST-1001,WIDGET-BLUE,1',
        ',CUST-1001,WIDGET-BLUE,1,,,,,',
      ].join('\n'),
    );
    expect(result.orders).toEqual([]);
    expect(result.failures).toEqual([
      {
        row: 2,
        reference: 'PO-1',
        reasons: [
          'shipToLine1: is required with the other ship-to columns',
          'shipToPostalCode: is required with the other ship-to columns',
        ],
      },
      { row: 3, reference: 'PO-2', reasons: ['has 4 fields, the header has 9'] },
      { row: 4, reasons: ['reference: is required'] },
    ]);
  });

  it('refuses an order of more lines than an order may have, on every row', () => {
    const rows = Array.from({ length: 51 }, (_, i) => `PO-1,CUST-1001,SKU-${i + 10},1,,`);
    const result = plan(csv(...rows));
    expect(result.orders).toEqual([]);
    expect(result.failures).toHaveLength(51);
    expect(result.failures.every((f) => f.reasons[0] === 'lines: must contain at most 50 lines')).toBe(true);
  });

  it('skips blank and empty rows, a byte-order mark and surrounding spaces; rows are line numbers', () => {
    const result = plan(
      `\ufeff${HEADER}\r\n\r\n PO-1 , CUST-1001 , WIDGET-BLUE , 1 ,,\r\n,,,,,\r\nPO-1,CUST-1001,DOCK-4K,1,,\r\n`,
    );
    expect(result.rows).toBe(2);
    expect(result.orders[0]).toMatchObject({ reference: 'PO-1', rows: [3, 5] });
  });

  it('refuses a file it cannot read as a whole: nothing is imported', () => {
    expect(planImport('')).toEqual({ ok: false, problems: [expect.stringContaining('empty')] });
    expect(planImport('reference,customer,sku\nPO-1,CUST-1001,WIDGET-BLUE')).toEqual({
      ok: false,
      problems: [
        expect.stringContaining('Unknown column "customer"'),
        'The column customerId is missing',
        'The column quantity is missing',
      ],
    });
    expect(planImport(`${HEADER},sku\nPO-1,CUST-1001,A,1,,,B`)).toEqual({
      ok: false,
      problems: ['The column sku appears more than once'],
    });
    expect(planImport(`${HEADER}\n"PO-1,CUST-1001,WIDGET-BLUE,1,,`)).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^The file is not valid CSV: Quote Not Closed/)],
    });
  });

  it('plans the example file: two good orders, a server-side refusal to come, a bad row and a duplicate', () => {
    const result = plan(readFileSync(new URL('../../local/examples/orders.csv', import.meta.url), 'utf8'));
    expect(result.orders.map((o) => [o.reference, o.rows])).toEqual([
      ['PO-1001', [2, 3]],
      ['PO-1002', [4]],
      ['PO-1005', [9]],
    ]);
    expect(result.failures.map((f) => [f.row, f.reference])).toEqual([
      [5, 'PO-1003'],
      [6, 'PO-1003'],
      [7, 'PO-1004'],
      [8, 'PO-1004'],
    ]);
  });
});

describe('importKey', () => {
  it('is the reference, prefixed; a digest of it when it has characters a key may not', () => {
    expect(importKey('PO-1')).toBe('import:PO-1');
    const key = importKey('PO 2026/17');
    expect(key).toMatch(/^import-sha256:[0-9a-f]{64}$/);
    expect(importKey('PO 2026/17')).toBe(key);
    expect(importKey('PO 2026/18')).not.toBe(key);
    for (const reference of ['PO-1', 'PO 2026/17', 'x'.repeat(100)])
      expect(IdempotencyKey.safeParse(importKey(reference)).success).toBe(true);
  });
});

describe('refusedRows', () => {
  const order: ImportOrder = {
    reference: 'PO-1',
    key: 'import:PO-1',
    rows: [2, 5, 7],
    entry: { customerId: 'CUST-1001', lines: [] },
  };

  it("puts a line's problem on its row and the order's on every row", () => {
    expect(
      refusedRows(order, '422 The order cannot be accepted', [
        { path: 'lines.1.sku', message: 'product X is not sold' },
      ]),
    ).toEqual([
      { row: 2, reference: 'PO-1', reasons: ['row 5 of this order is invalid'] },
      { row: 5, reference: 'PO-1', reasons: ['sku: product X is not sold'] },
      { row: 7, reference: 'PO-1', reasons: ['row 5 of this order is invalid'] },
    ]);
    expect(
      refusedRows(order, 'refused', [{ path: 'shippingAddress.postalCode', message: 'must be at most 20 characters' }]),
    ).toEqual(
      [2, 5, 7].map((row) => ({
        row,
        reference: 'PO-1',
        reasons: ['shipToPostalCode: must be at most 20 characters'],
      })),
    );
  });

  it('gives every row the refusal when it names no field', () => {
    expect(refusedRows(order, 'reference PO-1 was imported before', [])).toEqual(
      [2, 5, 7].map((row) => ({ row, reference: 'PO-1', reasons: ['reference PO-1 was imported before'] })),
    );
  });
});
