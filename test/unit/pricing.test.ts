import { describe, expect, it } from 'vitest';
import { CustomerBlocked, InvalidOrder, PriceMismatch } from '../../functions/core/errors.ts';
import { failureFrom } from '../../functions/core/order.ts';
import { priceOrder, totalsOf } from '../../functions/core/pricing.ts';
import type { Customer, OrderRequest, PricedLine, Product, TaxProfile } from '../../functions/core/schemas.ts';
import { basisPointsOf, isCountryCode, taxTreatmentFor, vatIdCountry } from '../../functions/core/tax.ts';

const product = (
  sku: string,
  prices: Product['prices'],
  taxCategory: Product['taxCategory'] = 'standard',
): Product => ({
  sku,
  name: sku.toLowerCase(),
  taxCategory,
  prices,
  active: true,
});
const catalog = new Map([
  ['WIDGET', product('WIDGET', { EUR: 1250, CHF: 1300 })],
  ['BOOK', product('BOOK', { EUR: 2490 }, 'reduced')],
  ['FOOD', product('FOOD', { EUR: 333 }, 'reduced')],
]);
const customer = (overrides: Partial<Customer> = {}): Customer => ({
  customerId: 'C1',
  name: 'Acme',
  email: 'a@acme.example',
  billingEmail: 'ap@acme.example',
  status: 'active',
  paymentTerms: { type: 'card' },
  creditLimit: 0,
  openBalance: 0,
  creditUsed: 0,
  currency: 'EUR',
  discountBasisPoints: 0,
  taxProfile: { country: 'DE', exempt: false },
  billingAddress: { name: 'Acme', line1: 'Main 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  ...overrides,
});
const shipTo = (country: string) => ({ name: 'Jane', line1: 'Main 1', city: 'Town', postalCode: '1000', country });
const request = (overrides: Partial<OrderRequest> = {}): OrderRequest => ({
  customerId: 'C1',
  currency: 'EUR',
  lines: [
    { sku: 'WIDGET', quantity: 2, unitPrice: 1250 },
    { sku: 'BOOK', quantity: 1, unitPrice: 2490 },
  ],
  shippingAddress: shipTo('DE'),
  payment: { method: 'card', token: 'tok_visa' },
  ...overrides,
});
const profile = (overrides: Partial<TaxProfile> = {}): TaxProfile => ({ country: 'DE', exempt: false, ...overrides });

describe('VAT treatment (seller in DE)', () => {
  const cases: Array<[string, string, TaxProfile, string, number | undefined, number | undefined]> = [
    // name, destination, profile, treatment, standard rate, reduced rate
    ['DE consumer', 'DE', profile(), 'domestic', 1900, 700],
    ['DE business', 'DE', profile({ vatId: 'DE123456789' }), 'domestic', 1900, 700],
    ['EU business delivered in DE', 'DE', profile({ country: 'FR', vatId: 'FR40303265045' }), 'domestic', 1900, 700],
    ['FR business', 'FR', profile({ country: 'FR', vatId: 'FR40303265045' }), 'reverse_charge', 0, 0],
    ['Greek business (EL prefix)', 'GR', profile({ country: 'GR', vatId: 'EL123456789' }), 'reverse_charge', 0, 0],
    ['FR delivery, German VAT id', 'FR', profile({ vatId: 'DE123456789' }), 'domestic', 1900, 700],
    ['FR consumer (OSS)', 'FR', profile({ country: 'FR' }), 'intra_eu_b2c', 2000, 550],
    ['NL consumer (OSS)', 'NL', profile({ country: 'NL' }), 'intra_eu_b2c', 2100, 900],
    ['FR consumer with a Swiss VAT id', 'FR', profile({ vatId: 'CHE-123.456.789 MWST' }), 'intra_eu_b2c', 2000, 550],
    ['Swiss business', 'CH', profile({ country: 'CH', vatId: 'CHE-123.456.789 MWST' }), 'export', 0, 0],
    ['US consumer', 'US', profile({ country: 'US' }), 'export', 0, 0],
    ['GB consumer', 'GB', profile({ country: 'GB' }), 'export', 0, 0],
    ['exempt customer in DE', 'DE', profile({ exempt: true }), 'exempt', 0, 0],
    ['exempt customer abroad', 'FR', profile({ exempt: true }), 'exempt', 0, 0],
  ];
  it.each(cases)('%s -> %s', (_name, destination, taxProfile, treatment, standard, reduced) => {
    const decision = taxTreatmentFor(destination, taxProfile);
    if (!decision.ok) throw new Error(decision.reason);
    expect(decision.treatment).toBe(treatment);
    expect(decision.rateFor('standard')).toBe(standard);
    expect(decision.rateFor('reduced')).toBe(reduced);
    expect(decision.rateFor('zero')).toBe(0);
  });

  it('refuses codes that are no country, and consumers in EU countries without rates', () => {
    expect(taxTreatmentFor('XX', profile())).toEqual({ ok: false, reason: 'XX is not a country code' });
    expect(taxTreatmentFor('EU', profile())).toMatchObject({ ok: false });
    expect(taxTreatmentFor('HR', profile())).toMatchObject({ ok: false, reason: expect.stringContaining('HR') });
    // A business there needs no rate: reverse charge.
    expect(taxTreatmentFor('HR', profile({ vatId: 'HR12345678901' }))).toMatchObject({ treatment: 'reverse_charge' });
    expect(isCountryCode('CH')).toBe(true);
    expect(isCountryCode('QQ')).toBe(false);
    expect(vatIdCountry('EL123')).toBe('GR');
  });
});

describe('discount and rounding', () => {
  it('rounds a line discount half up, per line', () => {
    expect(basisPointsOf(1250, 500)).toBe(63); // 62.5 -> 63
    expect(basisPointsOf(1249, 500)).toBe(62); // 62.45 -> 62
    expect(basisPointsOf(2490, 333)).toBe(83); // 82.917 -> 83
  });

  it("applies the customer's discount to every line and charges the list price less it", () => {
    const priced = priceOrder(request(), customer({ discountBasisPoints: 500 }), catalog);
    expect(priced.lines).toEqual([
      expect.objectContaining({ sku: 'WIDGET', unitPrice: 1250, discountBasisPoints: 500, lineDiscount: 125 }),
      expect.objectContaining({ sku: 'BOOK', unitPrice: 2490, lineDiscount: 125, lineSubtotal: 2365 }), // 124.5 -> 125
    ]);
    expect(priced.lines[0]?.lineSubtotal).toBe(2375);
    expect(priced.totals).toEqual({
      subtotal: 4740,
      discount: 250,
      // 2375 × 19 % = 451.25 -> 451; 2365 × 7 % = 165.55 -> 166
      tax: 617,
      total: 5357,
      taxByRate: [
        { rateBasisPoints: 1900, net: 2375, tax: 451 },
        { rateBasisPoints: 700, net: 2365, tax: 166 },
      ],
    });
  });

  it('computes tax once per rate on the sum of the nets, not per line', () => {
    // Three lines of 333 at 7 %: 23.31 each, so 23 per line (69 in all) but 69.93 -> 70 on the sum.
    const line = (sku: string): PricedLine => ({
      sku,
      name: sku,
      quantity: 1,
      unitPrice: 333,
      taxCategory: 'reduced',
      taxRateBasisPoints: 700,
      discountBasisPoints: 0,
      lineDiscount: 0,
      lineSubtotal: 333,
      lineTax: 23,
    });
    const totals = totalsOf([line('A'), line('B'), line('C')]);
    expect(totals.taxByRate).toEqual([{ rateBasisPoints: 700, net: 999, tax: 70 }]);
    expect(totals.tax).toBe(70);
    expect(totals.total).toBe(totals.subtotal + totals.tax);
  });
});

describe('priceOrder', () => {
  it('prices from the list of the order currency and records the treatment', () => {
    const swiss = customer({ currency: 'CHF', taxProfile: { country: 'CH', exempt: false } });
    const priced = priceOrder(
      request({
        currency: 'CHF',
        lines: [{ sku: 'WIDGET', quantity: 3, unitPrice: 1300 }],
        shippingAddress: shipTo('CH'),
      }),
      swiss,
      catalog,
    );
    expect(priced.taxTreatment).toBe('export');
    expect(priced.totals).toEqual({
      subtotal: 3900,
      discount: 0,
      tax: 0,
      total: 3900,
      taxByRate: [{ rateBasisPoints: 0, net: 3900, tax: 0 }],
    });
  });

  it('zero-rates a reverse-charge order', () => {
    const french = customer({ taxProfile: { country: 'FR', vatId: 'FR40303265045', exempt: false } });
    const priced = priceOrder(request({ shippingAddress: shipTo('FR') }), french, catalog);
    expect(priced.taxTreatment).toBe('reverse_charge');
    expect(priced.totals.tax).toBe(0);
    expect(priced.totals.total).toBe(2 * 1250 + 2490);
  });

  it('refuses a product not priced in the order currency, naming the line', () => {
    expect(() =>
      priceOrder(
        request({ currency: 'CHF', shippingAddress: shipTo('CH') }),
        customer({ currency: 'CHF', taxProfile: { country: 'CH', exempt: false } }),
        catalog,
      ),
    ).toThrow(new InvalidOrder([{ path: 'lines[1].sku', message: 'product BOOK has no price in CHF' }]));
  });

  it('refuses an on-account order in another currency than the customer credit', () => {
    const onAccount = customer({ paymentTerms: { type: 'on_account', netDays: 30 }, creditLimit: 100_000 });
    expect(() =>
      priceOrder(
        request({
          currency: 'CHF',
          lines: [{ sku: 'WIDGET', quantity: 1, unitPrice: 1300 }],
          payment: { method: 'on_account' },
        }),
        onAccount,
        catalog,
      ),
    ).toThrow('currency: on-account orders of this customer are in EUR');
  });

  it('rejects a blocked customer by name, before anything else', () => {
    const blocked = customer({ status: 'blocked' });
    expect(() =>
      priceOrder(request({ lines: [{ sku: 'NOPE', quantity: 1, unitPrice: 1 }] }), blocked, catalog),
    ).toThrow(CustomerBlocked);
    const error = new CustomerBlocked('C1');
    expect(error.name).toBe('CustomerBlocked');
    expect(failureFrom({ Error: error.name, Cause: JSON.stringify({ errorMessage: error.message }) })).toEqual({
      code: 'CustomerBlocked',
      message: 'Customer C1 is blocked and cannot place orders',
    });
  });

  it('rejects prices that are not the list price, naming sku, line, list and given price', () => {
    const changed = request({
      lines: [
        { sku: 'WIDGET', quantity: 1, unitPrice: 1200 },
        { sku: 'BOOK', quantity: 1, unitPrice: 2490 },
        { sku: 'FOOD', quantity: 2, unitPrice: 300 },
      ],
    });
    let caught: unknown;
    try {
      priceOrder(changed, customer(), catalog);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PriceMismatch);
    const mismatch = caught as PriceMismatch;
    expect(mismatch.name).toBe('PriceMismatch');
    expect(mismatch.lines).toEqual([
      { index: 0, sku: 'WIDGET', listPrice: 1250, givenPrice: 1200 },
      { index: 2, sku: 'FOOD', listPrice: 333, givenPrice: 300 },
    ]);
    expect(mismatch.message).toBe(
      'Prices differ from the price list: lines[0] WIDGET list price 1250, given 1200; lines[2] FOOD list price 333, given 300',
    );
    // The order shows the message (it names SKUs and amounts only).
    expect(failureFrom({ Error: 'PriceMismatch', Cause: JSON.stringify({ errorMessage: mismatch.message }) })).toEqual({
      code: 'PriceMismatch',
      message: mismatch.message,
    });
  });

  it('reports what makes the order invalid before a price mismatch', () => {
    const both = request({
      lines: [
        { sku: 'WIDGET', quantity: 1, unitPrice: 1 },
        { sku: 'NOPE', quantity: 1, unitPrice: 1 },
      ],
    });
    expect(() => priceOrder(both, customer(), catalog)).toThrow(InvalidOrder);
  });
});
