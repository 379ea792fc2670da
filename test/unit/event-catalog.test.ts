import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  catalogTable,
  DETAIL_TYPES,
  type DetailType,
  InvalidEventDetail,
  parseEventDetail,
} from '../../functions/core/event-catalog.ts';
import { orderEventDetail, UNPUBLISHED_STAGES } from '../../functions/core/events.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

// A validated order as the stages read it back (recordStage returns the stored order).
const order = {
  orderId: 'ord-0123456789abcdefghijklmnop',
  customerId: 'CUST-1001',
  status: 'SHIPPED',
  channel: 'web',
  currency: 'EUR',
  totals: { total: 12_345 },
  promisedDeliveryDate: '2026-12-04',
  createdAt: '2026-11-29T10:00:00.000Z',
};
const at = '2026-11-29T11:00:00.000Z';

/** The extras each publishing call site passes with orderEventDetail (handlers, lib/stages.ts callers). */
const CALL_SITES: Partial<Record<DetailType, Record<string, unknown>>> = {
  OrderValidated: { total: 12_345, promisedDeliveryDate: '2026-12-04' }, // validate-order
  OrderBackordered: { backorder: [{ sku: 'CABLE-USB-C', quantity: 2 }], backorderedQuantity: 2 }, // reserve-stock
  OrderBackorderCancelled: { cancelled: [{ sku: 'CABLE-USB-C', quantity: 2 }] }, // expire-backorder
  OrderShipped: { carrier: 'sandbox', shipmentId: 'ord-1-A1', warehouseId: 'WH-BERLIN' }, // create-shipment
  OrderDelivered: { deliveredAt: at }, // carrier-webhook
  OrderPaymentCaptured: { shipmentId: 'ord-1-A1', amount: 5000 }, // capture-payment
  OrderInvoiced: { invoiceNumber: 'INV-2026-000001', shipmentId: 'ord-1-A1' }, // issue-invoice
  OrderCompleted: { gross: 12_345, allLinesDelivered: true, cycleTimeSeconds: 3600 }, // complete-order
  OrderCancellationRequested: { kind: 'order' }, // cancel-order
  OrderRejected: { failureCode: 'OutOfStock' }, // close-order
  OrderFailed: { failureCode: 'PaymentDeclined' }, // close-order, reconciler
  OrderCancelled: { failureCode: 'CancelledByRequest' }, // close-order
  // lib/ledger-events.ts (issue-credit-note, finish-credit-notes; record-payment)
  OrderCreditNoteIssued: { creditNoteNumber: 'CN-2026-000001', invoiceNumber: 'INV-2026-000001', amount: 1190 },
  OrderPaymentReceived: { invoiceNumber: 'INV-2026-000001', reference: 'BANK-1', amount: 12_345 },
};

describe('event catalog', () => {
  it('has an entry for every detail-type the code publishes', () => {
    const published = sources(join(ROOT, 'functions')).flatMap((file) =>
      [
        ...readFileSync(file, 'utf8').matchAll(
          /(?:publish|recordStage|announce)\(\s*(?:[\w.]+,\s*)?'(Order[A-Za-z]+)'/g,
        ),
      ].map((m) => m[1] as string),
    );
    expect(published.length).toBeGreaterThan(15);
    for (const name of published)
      if (!(UNPUBLISHED_STAGES as readonly string[]).includes(name)) expect(DETAIL_TYPES, name).toContain(name);
  });

  it('accepts what every call site publishes and refuses a detail missing what it is about', () => {
    for (const type of DETAIL_TYPES) {
      if (type === 'FeedbackReceived') continue;
      const detail = { ...orderEventDetail(order, type, at), ...(CALL_SITES[type] ?? {}) };
      expect(() => parseEventDetail(type, detail), type).not.toThrow();
      expect(detail.eventId).toBe(`${order.orderId}:${type}`);
    }
    const { gross: _, ...withoutGross } = {
      ...orderEventDetail(order, 'OrderCompleted', at),
      ...CALL_SITES.OrderCompleted,
    };
    expect(() => parseEventDetail('OrderCompleted', withoutGross)).toThrow(InvalidEventDetail);
    expect(() => parseEventDetail('OrderCompleted', withoutGross)).toThrow(/gross/);
    expect(() =>
      parseEventDetail('FeedbackReceived', {
        version: 1,
        eventId: `feedback:${order.orderId}`,
        orderId: order.orderId,
        customerId: 'CUST-1001',
        occurredAt: at,
        score: 11,
        group: 'promoter',
      }),
    ).toThrow(/score/);
  });

  it('refuses a field the catalog does not name, and takes a failure code as long as a Step Functions error name', () => {
    const failed = { ...orderEventDetail(order, 'OrderFailed', order.createdAt), failureCode: 'E'.repeat(256) };
    expect(parseEventDetail('OrderFailed', failed)).toEqual(failed);
    expect(() => parseEventDetail('OrderFailed', { ...failed, failureCode: 'E'.repeat(257) })).toThrow(
      InvalidEventDetail,
    );
    const shipped = {
      ...orderEventDetail(order, 'OrderShipped', order.createdAt, 'ord-1-A1'),
      shipmentId: 'ord-1-A1',
      carrier: 'sandbox',
      warehouseId: 'WH-1',
    };
    expect(() => parseEventDetail('OrderShipped', { ...shipped, shippingAddress: { city: 'Berlin' } })).toThrow(
      /shippingAddress|Unrecognized/,
    );
  });

  it('is the table in the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = /<!-- event-catalog:start -->\n([\s\S]*?)\n<!-- event-catalog:end -->/.exec(readme)?.[1];
    // Cells compared trimmed (a formatter may align the columns); the dashes row of any width.
    const cells = (line: string) => line.split('|').map((cell) => cell.trim().replace(/^-+$/, '---'));
    expect(table?.split('\n').map(cells)).toEqual(catalogTable().map(cells));
  });
});
