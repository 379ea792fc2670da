import { describe, expect, it } from 'vitest';
import { parseEntry, resolveEntry } from '../../functions/core/order-entry.ts';
import type { Customer, OrderEntry, Product } from '../../functions/core/schemas.ts';

/** Order entries (CRM, e-mail, rep, import) completed from the customer's record and the price list. */
const billing = {
  name: 'Acme Retail GmbH',
  line1: 'Friedrichstr. 100',
  city: 'Berlin',
  postalCode: '10117',
  country: 'DE',
};
const onAccount: Customer = {
  customerId: 'CUST-1',
  name: 'Acme Retail GmbH',
  email: 'orders@acme.example',
  billingEmail: 'invoices@acme.example',
  status: 'active',
  paymentTerms: { type: 'on_account', netDays: 30 },
  creditLimit: 500_000,
  openBalance: 0,
  creditUsed: 0,
  currency: 'EUR',
  discountBasisPoints: 0,
  taxProfile: { country: 'DE', vatId: 'DE123456789', exempt: false },
  billingAddress: billing,
};
const cardCustomer: Customer = {
  ...onAccount,
  customerId: 'CUST-2',
  paymentTerms: { type: 'card' },
  cardOnFile: 'tok_visa',
};

const product = (sku: string, prices: Record<string, number>, active = true): Product => ({
  sku,
  name: sku.toLowerCase(),
  taxCategory: 'standard',
  prices,
  active,
});
const catalog = new Map(
  [
    product('WIDGET-BLUE', { EUR: 1250, CHF: 1300 }),
    product('GADGET-MINI', { EUR: 3900 }),
    product('LAMP-LED', { EUR: 4500 }, false),
  ].map((p) => [p.sku, p]),
);
const entry = (overrides: Partial<OrderEntry> = {}): OrderEntry => ({
  customerId: 'CUST-1',
  lines: [{ sku: 'WIDGET-BLUE', quantity: 2 }],
  ...overrides,
});

describe('resolveEntry', () => {
  it("fills currency, payment terms, ship-to and list prices from the customer's record", () => {
    expect(resolveEntry(entry(), onAccount, catalog)).toEqual({
      ok: true,
      request: {
        customerId: 'CUST-1',
        currency: 'EUR',
        lines: [{ sku: 'WIDGET-BLUE', quantity: 2, unitPrice: 1250 }],
        shippingAddress: billing,
        payment: { method: 'on_account' },
      },
    });
  });

  it('charges card orders to the card on file', () => {
    const resolved = resolveEntry(entry({ customerId: 'CUST-2' }), cardCustomer, catalog);
    expect(resolved).toMatchObject({ ok: true, request: { payment: { method: 'card', token: 'tok_visa' } } });
  });

  it('keeps what the entry says: currency, agreed price, ship-to, payment and policy', () => {
    const shipTo = { name: 'Warehouse 2', line1: 'Hafenstr. 9', city: 'Hamburg', postalCode: '20095', country: 'DE' };
    const resolved = resolveEntry(
      entry({
        currency: 'CHF',
        lines: [{ sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1200 }],
        shippingAddress: shipTo,
        payment: 'card',
        fulfilmentPolicy: 'ship_available',
      }),
      cardCustomer,
      catalog,
    );
    expect(resolved).toEqual({
      ok: true,
      request: {
        customerId: 'CUST-2',
        currency: 'CHF',
        lines: [{ sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1200 }],
        shippingAddress: shipTo,
        payment: { method: 'card', token: 'tok_visa' },
        fulfilmentPolicy: 'ship_available',
      },
    });
  });

  it('refuses a card order for a customer without a card on file', () => {
    expect(resolveEntry(entry({ payment: 'card' }), onAccount, catalog)).toEqual({
      ok: false,
      problems: [{ path: 'payment', message: expect.stringContaining('no card on file') }],
    });
    const { cardOnFile: _none, ...withoutCard } = cardCustomer;
    expect(resolveEntry(entry({ customerId: 'CUST-2' }), withoutCard, catalog)).toMatchObject({
      ok: false,
      problems: [{ path: 'payment' }],
    });
  });

  it('names an unknown customer', () => {
    expect(resolveEntry(entry({ customerId: 'CUST-404' }), undefined, catalog)).toEqual({
      ok: false,
      problems: [{ path: 'customerId', message: 'customer CUST-404 does not exist' }],
    });
  });

  it('names each unknown or inactive product and each product without a price in the currency, all at once', () => {
    const resolved = resolveEntry(
      entry({
        currency: 'CHF',
        lines: [
          { sku: 'WIDGET-BLUE', quantity: 1 },
          { sku: 'NO-SUCH-THING', quantity: 1 },
          { sku: 'LAMP-LED', quantity: 1 },
          { sku: 'GADGET-MINI', quantity: 1 },
        ],
      }),
      onAccount,
      catalog,
    );
    expect(resolved).toEqual({
      ok: false,
      problems: [
        { path: 'lines.1.sku', message: 'product NO-SUCH-THING is not sold' },
        { path: 'lines.2.sku', message: 'product LAMP-LED is not sold' },
        { path: 'lines.3.sku', message: 'product GADGET-MINI has no price in CHF' },
      ],
    });
  });

  it('refuses the same SKU on two lines, naming the second', () => {
    const resolved = resolveEntry(
      entry({
        lines: [
          { sku: 'WIDGET-BLUE', quantity: 1 },
          { sku: 'WIDGET-BLUE', quantity: 2 },
        ],
      }),
      onAccount,
      catalog,
    );
    expect(resolved).toEqual({
      ok: false,
      problems: [{ path: 'lines.1.sku', message: 'appears more than once; combine the lines' }],
    });
  });
});

describe('parseEntry', () => {
  it('names each wrong field of an entry as a channel received it', () => {
    expect(parseEntry({ customerId: 'CUST 1', lines: [{ sku: 'widget', quantity: 0 }], payment: 'cash' })).toEqual({
      ok: false,
      problems: expect.arrayContaining([
        expect.objectContaining({ path: 'customerId' }),
        expect.objectContaining({ path: 'lines.0.sku' }),
        expect.objectContaining({ path: 'lines.0.quantity' }),
        expect.objectContaining({ path: 'payment' }),
      ]),
    });
    expect(parseEntry(entry())).toEqual({ ok: true, entry: entry() });
  });
});
