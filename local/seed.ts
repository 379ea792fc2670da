import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { customerItem } from '../functions/adapters/customers-repository.ts';
import type { Customer, Product, StockItem } from '../functions/core/schemas.ts';
import { type LocalCredentials, localCredentials } from './emulators/emulator.ts';

/** Demo data for `npm start` and the tests: a small catalog (EUR, some CHF/USD prices) with stock, and customers. */
export const DEMO_PRODUCTS: Product[] = [
  {
    sku: 'WIDGET-BLUE',
    name: 'Widget, blue',
    taxCategory: 'standard',
    prices: { EUR: 1250, CHF: 1300, USD: 1400 },
    active: true,
  },
  {
    sku: 'WIDGET-RED',
    name: 'Widget, red',
    taxCategory: 'standard',
    prices: { EUR: 1250, CHF: 1300 },
    active: true,
  },
  {
    sku: 'GADGET-PRO',
    name: 'Gadget Pro',
    taxCategory: 'standard',
    prices: { EUR: 8900, CHF: 9200, USD: 9900 },
    active: true,
  },
  {
    sku: 'GADGET-MINI',
    name: 'Gadget Mini',
    taxCategory: 'standard',
    prices: { EUR: 3900 },
    active: true,
  },
  {
    sku: 'CABLE-USB-C',
    name: 'USB-C cable 2 m',
    taxCategory: 'standard',
    prices: { EUR: 990, CHF: 1050, USD: 1100 },
    active: true,
  },
  {
    sku: 'DOCK-4K',
    name: '4K docking station',
    taxCategory: 'standard',
    prices: { EUR: 18_900, CHF: 19_500 },
    active: true,
  },
  {
    sku: 'MONITOR-27',
    name: '27" monitor',
    taxCategory: 'standard',
    prices: { EUR: 32_900, CHF: 33_900 },
    active: true,
  },
  {
    sku: 'KEYBOARD-MX',
    name: 'Mechanical keyboard',
    taxCategory: 'standard',
    prices: { EUR: 11_900 },
    active: true,
  },
  {
    sku: 'MOUSE-ERGO',
    name: 'Ergonomic mouse',
    taxCategory: 'standard',
    prices: { EUR: 5900 },
    active: true,
  },
  {
    sku: 'BOOK-SETUP',
    name: 'Setup guide (printed book)',
    taxCategory: 'reduced',
    prices: { EUR: 2490, CHF: 2600 },
    active: true,
  },
  {
    sku: 'LAMP-LED',
    name: 'LED desk lamp (discontinued)',
    taxCategory: 'standard',
    prices: { EUR: 4500 },
    active: false,
  },
];

/**
 * On-hand stock per warehouse: some SKUs in both (Berlin is the default, Rotterdam the second
 * choice), some in one only. The totals are what the catalog had before stock moved to warehouses.
 */
const DEMO_STOCK_ON_HAND: Record<string, Record<string, number>> = {
  'WIDGET-BLUE': { 'WH-BERLIN': 400, 'WH-ROTTERDAM': 100 },
  'WIDGET-RED': { 'WH-BERLIN': 200, 'WH-ROTTERDAM': 100 },
  'GADGET-PRO': { 'WH-BERLIN': 120 },
  'GADGET-MINI': { 'WH-BERLIN': 150, 'WH-ROTTERDAM': 50 },
  'CABLE-USB-C': { 'WH-BERLIN': 1000 },
  'DOCK-4K': { 'WH-BERLIN': 40 },
  'MONITOR-27': { 'WH-BERLIN': 15, 'WH-ROTTERDAM': 10 },
  'KEYBOARD-MX': { 'WH-ROTTERDAM': 60 },
  'MOUSE-ERGO': { 'WH-BERLIN': 50, 'WH-ROTTERDAM': 30 },
  'BOOK-SETUP': { 'WH-BERLIN': 100, 'WH-ROTTERDAM': 50 },
  'LAMP-LED': { 'WH-BERLIN': 10 },
};
export const DEMO_STOCK: StockItem[] = Object.entries(DEMO_STOCK_ON_HAND).flatMap(([sku, byWarehouse]) =>
  Object.entries(byWarehouse).map(([warehouseId, onHand]) => ({
    sku,
    warehouseId,
    onHand,
    reserved: 0,
    available: onHand,
  })),
);

const DE_CONSUMER = { country: 'DE', exempt: false };
const terms30 = { type: 'on_account', netDays: 30 } as const;

/**
 * One customer per case the pricing and tax rules tell apart: German B2B and consumer, EU B2B with a
 * VAT id (reverse charge), exports (CH in CHF, US in USD), a discount, a tax-exempt buyer, a blocked one.
 */
export const DEMO_CUSTOMERS: Customer[] = [
  {
    customerId: 'CUST-1001',
    crmCompanyId: 'crm-acme-retail',
    name: 'Acme Retail GmbH',
    email: 'orders@acme-retail.example',
    billingEmail: 'invoices@acme-retail.example',
    status: 'active',
    paymentTerms: terms30,
    creditLimit: 500_000,
    openBalance: 0,
    creditUsed: 0,
    currency: 'EUR',
    discountBasisPoints: 0,
    taxProfile: { country: 'DE', vatId: 'DE123456789', exempt: false },
    billingAddress: {
      name: 'Acme Retail GmbH',
      line1: 'Friedrichstr. 100',
      city: 'Berlin',
      postalCode: '10117',
      country: 'DE',
    },
  },
  {
    customerId: 'CUST-1002',
    name: 'Jane Doe',
    email: 'jane.doe@example.com',
    billingEmail: 'jane.doe@example.com',
    status: 'active',
    paymentTerms: { type: 'card' },
    cardOnFile: 'tok_visa',
    creditLimit: 0,
    openBalance: 0,
    creditUsed: 0,
    currency: 'EUR',
    discountBasisPoints: 0,
    taxProfile: DE_CONSUMER,
    billingAddress: { name: 'Jane Doe', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  },
  {
    customerId: 'CUST-1003',
    crmCompanyId: 'crm-globex',
    name: 'Globex Trading BV',
    email: 'purchasing@globex.example',
    billingEmail: 'crediteuren@globex.example',
    status: 'active',
    paymentTerms: terms30,
    creditLimit: 20_000,
    openBalance: 15_000,
    creditUsed: 15_000,
    currency: 'EUR',
    discountBasisPoints: 0,
    taxProfile: { country: 'NL', vatId: 'NL123456789B01', exempt: false },
    billingAddress: {
      name: 'Globex Trading BV',
      line1: 'Keizersgracht 1',
      city: 'Amsterdam',
      postalCode: '1015 CJ',
      country: 'NL',
    },
  },
  {
    customerId: 'CUST-1004',
    crmCompanyId: 'crm-initech',
    name: 'Initech Ltd',
    email: 'ap@initech.example',
    billingEmail: 'ap@initech.example',
    status: 'blocked',
    paymentTerms: terms30,
    creditLimit: 100_000,
    openBalance: 0,
    creditUsed: 0,
    currency: 'EUR',
    discountBasisPoints: 0,
    taxProfile: { country: 'DE', vatId: 'DE987654321', exempt: false },
    billingAddress: {
      name: 'Initech Ltd',
      line1: 'Industriestr. 5',
      city: 'Hamburg',
      postalCode: '20095',
      country: 'DE',
    },
  },
  {
    customerId: 'CUST-1005',
    name: 'Maison Dupont SARL',
    email: 'achats@maison-dupont.example',
    billingEmail: 'comptabilite@maison-dupont.example',
    status: 'active',
    paymentTerms: { type: 'on_account', netDays: 45 },
    creditLimit: 300_000,
    openBalance: 0,
    creditUsed: 0,
    currency: 'EUR',
    discountBasisPoints: 0,
    taxProfile: { country: 'FR', vatId: 'FR40303265045', exempt: false },
    billingAddress: {
      name: 'Maison Dupont SARL',
      line1: '12 rue de la Paix',
      city: 'Paris',
      postalCode: '75002',
      country: 'FR',
    },
  },
  {
    customerId: 'CUST-1006',
    name: 'Helvetia Instruments AG',
    email: 'einkauf@helvetia-instruments.example',
    billingEmail: 'kreditoren@helvetia-instruments.example',
    status: 'active',
    paymentTerms: { type: 'card' },
    cardOnFile: 'tok_visa',
    creditLimit: 0,
    openBalance: 0,
    creditUsed: 0,
    currency: 'CHF',
    discountBasisPoints: 0,
    taxProfile: { country: 'CH', vatId: 'CHE-123.456.789 MWST', exempt: false },
    billingAddress: {
      name: 'Helvetia Instruments AG',
      line1: 'Bahnhofstr. 10',
      city: 'Zürich',
      postalCode: '8001',
      country: 'CH',
    },
  },
  {
    customerId: 'CUST-1007',
    crmCompanyId: 'crm-mueller-soehne',
    name: 'Müller & Söhne KG',
    email: 'bestellung@mueller-soehne.example',
    billingEmail: 'buchhaltung@mueller-soehne.example',
    status: 'active',
    paymentTerms: terms30,
    creditLimit: 200_000,
    openBalance: 0,
    creditUsed: 0,
    currency: 'EUR',
    discountBasisPoints: 500,
    taxProfile: { country: 'DE', vatId: 'DE811907980', exempt: false },
    billingAddress: {
      name: 'Müller & Söhne KG',
      line1: 'Marienplatz 3',
      city: 'München',
      postalCode: '80331',
      country: 'DE',
    },
  },
  {
    customerId: 'CUST-1008',
    name: 'Botschaft von Beispielland',
    email: 'verwaltung@botschaft-beispielland.example',
    billingEmail: 'verwaltung@botschaft-beispielland.example',
    status: 'active',
    paymentTerms: { type: 'card' },
    cardOnFile: 'tok_visa',
    creditLimit: 0,
    openBalance: 0,
    creditUsed: 0,
    currency: 'EUR',
    discountBasisPoints: 0,
    taxProfile: { country: 'DE', exempt: true },
    billingAddress: {
      name: 'Botschaft von Beispielland',
      line1: 'Unter den Linden 20',
      city: 'Berlin',
      postalCode: '10117',
      country: 'DE',
    },
  },
  {
    customerId: 'CUST-1009',
    name: 'Initrode Inc.',
    email: 'purchasing@initrode.example',
    billingEmail: 'payables@initrode.example',
    status: 'active',
    paymentTerms: { type: 'card' },
    cardOnFile: 'tok_visa',
    creditLimit: 0,
    openBalance: 0,
    creditUsed: 0,
    currency: 'USD',
    discountBasisPoints: 0,
    taxProfile: { country: 'US', exempt: false },
    billingAddress: {
      name: 'Initrode Inc.',
      line1: '500 Market St',
      city: 'San Francisco',
      postalCode: '94105',
      country: 'US',
    },
  },
];

/**
 * Writes the demo data straight to the tables (items as the functions' repositories store them),
 * through a client of its own: the runtime's process has none of the functions' configuration.
 */
export async function seedDemoData(
  tables: { products: string; stock: string; customers: string },
  dynamodbEndpoint: string,
  credentials: LocalCredentials = localCredentials,
): Promise<void> {
  const client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamodbEndpoint, credentials });
  const db = DynamoDBDocumentClient.from(client);
  const put = (TableName: string, Item: Record<string, unknown>) => db.send(new PutCommand({ TableName, Item }));
  try {
    await Promise.all([
      ...DEMO_PRODUCTS.map((p) => put(tables.products, p)),
      ...DEMO_STOCK.map((item) => put(tables.stock, item)),
      ...DEMO_CUSTOMERS.map((c) => put(tables.customers, customerItem(c))),
    ]);
  } finally {
    client.destroy();
  }
}
