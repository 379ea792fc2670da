import { describe, expect, it } from 'vitest';
import { shortLines } from '../../functions/core/allocation.ts';
import { creditCeiling } from '../../functions/core/credit.ts';
import { CreditLimitExceeded, InvalidOrder, InvoiceNumbersExhausted, OutOfStock } from '../../functions/core/errors.ts';
import { orderIdFor, submissionHash } from '../../functions/core/ids.ts';
import { formatInvoiceNumber, invoiceYear, parseInvoiceNumber } from '../../functions/core/invoice-number.ts';
import { formatMoney } from '../../functions/core/money.ts';
import {
  cycleTimeSeconds,
  failureFrom,
  interruptedFailure,
  missingAfterInterruption,
  newOrder,
  statusRank,
  timelineOf,
} from '../../functions/core/order.ts';
import { priceOrder, totalsOf } from '../../functions/core/pricing.ts';
import { type Customer, OrderId, OrderRequest, type Product } from '../../functions/core/schemas.ts';
import { signPayload, verifySignature } from '../../functions/core/signature.ts';
import { taxOn } from '../../functions/core/tax.ts';

const product = (sku: string, unitPrice: number, extra: Partial<Product> = {}): Product => ({
  sku,
  name: sku.toLowerCase(),
  taxCategory: 'standard',
  prices: { EUR: unitPrice },
  active: true,
  ...extra,
});
const customer: Customer = {
  customerId: 'C1',
  name: 'Acme',
  email: 'a@acme.example',
  billingEmail: 'ap@acme.example',
  status: 'active',
  paymentTerms: { type: 'on_account', netDays: 30 },
  creditLimit: 10_000,
  openBalance: 0,
  creditUsed: 0,
  currency: 'EUR',
  discountBasisPoints: 0,
  taxProfile: { country: 'DE', exempt: false },
  billingAddress: { name: 'Acme', line1: 'Main 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
};
const request = (overrides: Partial<OrderRequest> = {}): OrderRequest => ({
  customerId: 'C1',
  currency: 'EUR',
  lines: [
    { sku: 'A', quantity: 3, unitPrice: 1999 },
    { sku: 'B', quantity: 1, unitPrice: 500 },
  ],
  shippingAddress: { name: 'Jane', line1: 'Main 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  payment: { method: 'card', token: 'tok_visa' },
  ...overrides,
});
const catalog = new Map([
  ['A', product('A', 1999)],
  ['B', product('B', 500)],
  ['OLD', product('OLD', 100, { active: false })],
]);

describe('pricing', () => {
  it('prices lines from the catalog with VAT of the destination, in integer cents', () => {
    const priced = priceOrder(request(), customer, catalog);
    expect(priced.lines).toEqual([
      expect.objectContaining({ sku: 'A', lineSubtotal: 5997, taxRateBasisPoints: 1900, lineTax: 1139 }),
      expect.objectContaining({ sku: 'B', lineSubtotal: 500, lineTax: 95 }),
    ]);
    // Tax on the sum of the nets at 19 %: 6497 × 0.19 = 1234.43 -> 1234.
    expect(priced.totals).toEqual({
      subtotal: 6497,
      discount: 0,
      tax: 1234,
      total: 7731,
      taxByRate: [{ rateBasisPoints: 1900, net: 6497, tax: 1234 }],
    });
    expect(priced.taxTreatment).toBe('domestic');
  });

  it('reports every problem at once, naming the field', () => {
    const bad = request({
      lines: [
        { sku: 'A', quantity: 1, unitPrice: 1999 },
        { sku: 'NOPE', quantity: 1, unitPrice: 1 },
        { sku: 'OLD', quantity: 1, unitPrice: 100 },
      ],
      shippingAddress: { ...request().shippingAddress, country: 'ZZ' },
    });
    try {
      priceOrder(bad, customer, catalog);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOrder);
      expect((error as InvalidOrder).problems.map((p) => p.path)).toEqual([
        'shippingAddress.country',
        'lines[1].sku',
        'lines[2].sku',
      ]);
      expect((error as Error).message).toContain('we do not ship to ZZ: ZZ is not a country code');
    }
  });

  it('rejects unknown customers and on-account orders from card customers', () => {
    expect(() => priceOrder(request(), undefined, catalog)).toThrow(/customer C1 does not exist/);
    expect(() =>
      priceOrder(
        request({ payment: { method: 'on_account' } }),
        { ...customer, paymentTerms: { type: 'card' } },
        catalog,
      ),
    ).toThrow(/no account terms/);
  });

  it('rejects a product not priced in the order currency, naming the line', () => {
    expect(() => priceOrder(request({ currency: 'USD' }), customer, catalog)).toThrow(
      'lines[0].sku: product A has no price in USD; lines[1].sku: product B has no price in USD',
    );
  });

  it('rounds tax half up and totals add up', () => {
    expect(taxOn(50, 1900)).toBe(10); // 9.5 -> 10
    expect(taxOn(49, 1900)).toBe(9); // 9.31 -> 9
    expect(taxOn(0, 2000)).toBe(0);
    expect(totalsOf([])).toEqual({ subtotal: 0, discount: 0, tax: 0, total: 0, taxByRate: [] });
  });
});

describe('credit', () => {
  it('accepts an order within the remaining credit and gives the ceiling its hold is written under', () => {
    expect(creditCeiling({ ...customer, creditUsed: 4_000 }, 6_000)).toBe(4_000);
  });

  it('refuses an order beyond the remaining credit, saying what remains', () => {
    expect(() => creditCeiling({ ...customer, creditUsed: 4_000 }, 6_001)).toThrow(CreditLimitExceeded);
    expect(() => creditCeiling({ ...customer, creditUsed: 12_000 }, 1)).toThrow(
      'exceeds the remaining credit 0 of customer C1',
    );
  });
});

describe('allocation', () => {
  it('names the lines the stock cannot serve', () => {
    const short = shortLines(
      [
        { sku: 'A', quantity: 5 },
        { sku: 'B', quantity: 2 },
        { sku: 'C', quantity: 1 },
      ],
      new Map([
        ['A', 4],
        ['B', 2],
      ]),
    );
    expect(short).toEqual([
      { sku: 'A', requested: 5, available: 4 },
      { sku: 'C', requested: 1, available: 0 },
    ]);
    expect(new OutOfStock(short).message).toBe(
      'Not enough stock for A (requested 5, available 4), C (requested 1, available 0)',
    );
  });
});

describe('invoice numbers', () => {
  it('formats INV-<year>-<6 digits> and parses it back', () => {
    expect(formatInvoiceNumber(2026, 1)).toBe('INV-2026-000001');
    expect(formatInvoiceNumber(2026, 123456)).toBe('INV-2026-123456');
    expect(parseInvoiceNumber('INV-2026-000042')).toEqual({ year: 2026, sequence: 42 });
    expect(parseInvoiceNumber('INV-26-1')).toBeUndefined();
  });

  it('refuses sequence 0 and runs out after 999999', () => {
    expect(() => formatInvoiceNumber(2026, 0)).toThrow(RangeError);
    expect(() => formatInvoiceNumber(2026, 1_000_000)).toThrow(InvoiceNumbersExhausted);
  });

  it('numbers in the UTC year of issue', () => {
    expect(invoiceYear(new Date('2026-12-31T23:30:00-02:00'))).toBe(2027);
  });
});

describe('webhook signatures', () => {
  const secret = 's3cret';
  const body = '{"trackingNumber":"T1","status":"DELIVERED","occurredAt":"2026-11-28T10:00:00Z"}';
  const now = 1_800_000_000;

  it('accepts a fresh, correct signature', () => {
    const signature = signPayload(secret, now, body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature({ secret, timestamp: String(now), signature, rawBody: body, nowSeconds: now + 10 })).toEqual(
      { ok: true },
    );
  });

  it('refuses a tampered body, a wrong secret, a stale or missing timestamp', () => {
    const signature = signPayload(secret, now, body);
    const check = (over: Partial<Parameters<typeof verifySignature>[0]>) =>
      verifySignature({ secret, timestamp: String(now), signature, rawBody: body, nowSeconds: now, ...over });
    expect(check({ rawBody: body.replace('DELIVERED', 'LOST') })).toEqual({
      ok: false,
      reason: 'X-Signature does not match',
    });
    expect(check({ secret: 'other' }).ok).toBe(false);
    expect(check({ nowSeconds: now + 301 })).toEqual({
      ok: false,
      reason: 'X-Timestamp is outside the allowed 5 minute window',
    });
    expect(check({ timestamp: undefined }).ok).toBe(false);
    expect(check({ signature: undefined }).ok).toBe(false);
  });
});

describe('order ids', () => {
  it('are valid execution names, the same for a repeated capture and different otherwise', () => {
    const a = orderIdFor('web', 'client:checkout', 'key-1');
    expect(a).toMatch(/^ord-[0-9a-z]{26}$/);
    expect(OrderId.safeParse(a).success).toBe(true);
    expect(orderIdFor('web', 'client:checkout', 'key-1')).toBe(a);
    expect(orderIdFor('web', 'client:checkout', 'key-2')).not.toBe(a);
    expect(orderIdFor('crm', 'client:checkout', 'key-1')).not.toBe(a);
    expect(orderIdFor('web', 'client:erp', 'key-1')).not.toBe(a);
    // Unambiguous: a colon in a caller's name or a key cannot make two callers' keys one.
    expect(orderIdFor('web', 'user:ann:x', '12345678')).not.toBe(orderIdFor('web', 'user:ann', 'x:12345678'));
    // The key alone names the order: another submission under it finds the same order (and is refused there).
    expect(submissionHash(request())).toBe(submissionHash(request()));
    expect(submissionHash(request({ currency: 'GBP' }))).not.toBe(submissionHash(request()));
  });
});

describe('order lifecycle helpers', () => {
  it('derives the timeline from stage times, oldest first', () => {
    const order = newOrder({
      orderId: 'ord-x',
      request: request(),
      channel: 'web',
      now: new Date('2026-11-28T10:00:00Z'),
    });
    order.stages.OrderValidated = '2026-11-28T10:00:02.000Z';
    expect(timelineOf(order, 'staff')).toEqual([
      { at: '2026-11-28T10:00:00.000Z', type: 'OrderReceived' },
      { at: '2026-11-28T10:00:02.000Z', type: 'OrderValidated' },
    ]);
    expect(cycleTimeSeconds(order, new Date('2026-11-28T10:01:30Z'))).toBe(90);
  });

  it('turns a Lambda Cause of our own errors into a readable failure, and any other into a code and a generic message', () => {
    const lambdaCause = JSON.stringify({ errorType: 'OutOfStock', errorMessage: 'Not enough stock for A', trace: [] });
    expect(failureFrom({ Error: 'OutOfStock', Cause: lambdaCause })).toEqual({
      code: 'OutOfStock',
      message: 'Not enough stock for A',
    });
    expect(failureFrom({ Error: 'States.Timeout', Cause: 'timed out' })).toEqual({
      code: 'States.Timeout',
      message: 'A step of the order did not finish in time',
    });
    // An AWS service's or a bug's message may echo personal data: never shown on the order.
    const leaky = JSON.stringify({
      errorType: 'MessageRejected',
      errorMessage: 'Email address is not verified: jane.doe@example.com (Jane Doe, Hauptstr. 1)',
    });
    const failure = failureFrom({ Error: 'MessageRejected', Cause: leaky });
    expect(failure).toEqual({ code: 'MessageRejected', message: 'The order could not be completed (MessageRejected)' });
    expect(failureFrom({ Error: 'X' })).toEqual({ code: 'X', message: 'The order could not be completed (X)' });
  });

  it('says when the compensation itself failed', () => {
    expect(
      failureFrom({
        Error: 'ShipmentLost',
        Cause: JSON.stringify({ errorMessage: 'Carrier reported SBX1 lost' }),
        voidPaymentError: { Error: 'PaymentProviderUnavailable' },
      }),
    ).toEqual({
      code: 'ShipmentLost',
      message: 'Carrier reported SBX1 lost. Compensation failed for: payment; left for operations to settle',
      compensationFailed: ['payment'],
    });
  });

  it('ranks statuses so that none moves backwards, and describes an interrupted order', () => {
    expect(statusRank('DELIVERED')).toBeGreaterThan(statusRank('SHIPPED'));
    expect(statusRank('FAILED')).toBeGreaterThan(statusRank('INVOICED'));
    expect(interruptedFailure('ABORTED', [])).toEqual({
      code: 'WorkflowInterrupted',
      message: "The order's workflow ended ABORTED before the order finished; it was compensated",
    });
    expect(interruptedFailure('TIMED_OUT', ['stock']).compensationFailed).toEqual(['stock']);
  });

  it('says what an interrupted order past the point of no return is missing, never that it was compensated', () => {
    const card = { payment: { method: 'card' as const, token: 'tok_visa' }, shipments: [] };
    const parcel = {
      shipmentId: 's',
      carrier: 'SANDBOX',
      trackingNumber: 't',
      allocationId: 'A1',
      warehouseId: 'WH-BERLIN',
      lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }],
    };
    const inTransit = [{ ...parcel, status: 'IN_TRANSIT' as const }];
    const charged = { ...parcel, status: 'CREATED' as const, captureId: 'cap', capturedAmount: 100 };
    const captured = [charged];
    expect(missingAfterInterruption({ ...card, shipments: captured })).toEqual(['invoice']);
    expect(
      missingAfterInterruption({ ...card, shipments: [{ ...charged, invoiceNumber: 'INV-2026-000001' }] }),
    ).toEqual([]);
    expect(missingAfterInterruption({ ...card, shipments: inTransit })).toEqual(['payment', 'invoice']);
    expect(missingAfterInterruption({ payment: { method: 'on_account' }, shipments: inTransit })).toEqual(['invoice']);
    expect(missingAfterInterruption({ ...card, shipments: [{ ...parcel, status: 'CANCELLED' as const }] })).toEqual([]);
    // Per shipment: one invoiced and captured, the other gone without either.
    expect(
      missingAfterInterruption({
        ...card,
        shipments: [
          { ...charged, invoiceNumber: 'INV-2026-000001' },
          { ...parcel, shipmentId: 's2', allocationId: 'A2', status: 'IN_TRANSIT' as const },
        ],
      }),
    ).toEqual(['payment', 'invoice']);

    expect(interruptedFailure('ABORTED', [], ['invoice'])).toEqual({
      code: 'WorkflowInterrupted',
      message:
        "The order's workflow ended ABORTED before the order finished. Payment captured, invoice not issued; left for operations to settle",
      missing: ['invoice'],
    });
    expect(interruptedFailure('ABORTED', [], ['invoice'], 'on_account').message).toContain(
      'Goods shipped, invoice not issued',
    );
    const both = interruptedFailure('TIMED_OUT', ['stock'], ['payment', 'invoice']);
    expect(both.message).toContain('Goods shipped, payment not captured, invoice not issued');
    expect(both.message).toContain('Compensation failed for: stock');
    expect(both.message).not.toContain('compensated');
    expect(both).toMatchObject({ compensationFailed: ['stock'], missing: ['payment', 'invoice'] });
    expect(interruptedFailure('ABORTED', [], [], 'card', true).message).toBe(
      "The order's workflow ended ABORTED before the order finished. Invoices issued; only the order's completion is missing",
    );
  });
});

describe('order request schema', () => {
  it('names each invalid field', () => {
    const result = OrderRequest.safeParse({
      customerId: '',
      currency: 'euro',
      lines: [
        { sku: 'A1', quantity: 0, unitPrice: 1.5 },
        { sku: 'A1', quantity: 1, unitPrice: 100 },
      ],
      shippingAddress: { name: 'J', line1: 'x', city: 'y', postalCode: '1', country: 'Germany' },
      payment: { method: 'bitcoin' },
    });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'customerId',
        'currency',
        'lines.0.quantity',
        'lines.0.unitPrice',
        'shippingAddress.country',
        'payment.method',
      ]),
    );
  });

  it('refuses duplicate SKUs (one transaction cannot update an item twice)', () => {
    const result = OrderRequest.safeParse({
      ...request(),
      lines: [
        { sku: 'A1', quantity: 1, unitPrice: 100 },
        { sku: 'A1', quantity: 2, unitPrice: 100 },
      ],
    });
    expect(result.error?.issues).toEqual([expect.objectContaining({ path: ['lines', 1, 'sku'] })]);
  });
});

describe('money and KPIs', () => {
  it('formats minor units with the currency', () => {
    expect(formatMoney(123456, 'EUR')).toBe('EUR 1,234.56');
    expect(formatMoney(5, 'EUR')).toBe('EUR 0.05');
    expect(formatMoney(-250, 'GBP')).toBe('-GBP 2.50');
  });
});
