import type { Customer, Product, StockItem } from '../functions/core/schemas.ts';

/** Demo data for `npm start` and the tests: a small EUR catalog with stock, and a few customers. */
export const DEMO_PRODUCTS: Product[] = [
  {
    sku: 'WIDGET-BLUE',
    name: 'Widget, blue',
    unitPrice: 1250,
    currency: 'EUR',
    active: true,
  },
  {
    sku: 'WIDGET-RED',
    name: 'Widget, red',
    unitPrice: 1250,
    currency: 'EUR',
    active: true,
  },
  {
    sku: 'GADGET-PRO',
    name: 'Gadget Pro',
    unitPrice: 8900,
    currency: 'EUR',
    active: true,
  },
  {
    sku: 'GADGET-MINI',
    name: 'Gadget Mini',
    unitPrice: 3900,
    currency: 'EUR',
    active: true,
  },
  {
    sku: 'CABLE-USB-C',
    name: 'USB-C cable 2 m',
    unitPrice: 990,
    currency: 'EUR',
    active: true,
  },
  {
    sku: 'DOCK-4K',
    name: '4K docking station',
    unitPrice: 18900,
    currency: 'EUR',
    active: true,
  },
  {
    sku: 'MONITOR-27',
    name: '27" monitor',
    unitPrice: 32900,
    currency: 'EUR',
    active: true,
  },
  {
    sku: 'KEYBOARD-MX',
    name: 'Mechanical keyboard',
    unitPrice: 11900,
    currency: 'EUR',
    active: true,
  },
  {
    sku: 'MOUSE-ERGO',
    name: 'Ergonomic mouse',
    unitPrice: 5900,
    currency: 'EUR',
    active: true,
  },
  {
    sku: 'LAMP-LED',
    name: 'LED desk lamp (discontinued)',
    unitPrice: 4500,
    currency: 'EUR',
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

export const DEMO_CUSTOMERS: Customer[] = [
  {
    customerId: 'CUST-1001',
    name: 'Acme Retail GmbH',
    email: 'orders@acme-retail.example',
    status: 'ACTIVE',
    paymentTerms: 'NET30',
    creditLimit: 500_000,
    openBalance: 0,
    creditUsed: 0,
    currency: 'EUR',
  },
  {
    customerId: 'CUST-1002',
    name: 'Jane Doe',
    email: 'jane.doe@example.com',
    status: 'ACTIVE',
    paymentTerms: 'PREPAID',
    creditLimit: 0,
    openBalance: 0,
    creditUsed: 0,
    currency: 'EUR',
  },
  {
    customerId: 'CUST-1003',
    name: 'Globex Trading BV',
    email: 'purchasing@globex.example',
    status: 'ACTIVE',
    paymentTerms: 'NET30',
    creditLimit: 20_000,
    openBalance: 15_000,
    creditUsed: 15_000,
    currency: 'EUR',
  },
  {
    customerId: 'CUST-1004',
    name: 'Initech Ltd',
    email: 'ap@initech.example',
    status: 'SUSPENDED',
    paymentTerms: 'NET30',
    creditLimit: 100_000,
    openBalance: 0,
    creditUsed: 0,
    currency: 'EUR',
  },
];

export async function seedDemoData(tables: { products: string; stock: string; customers: string }): Promise<void> {
  // Imported here, after the runtime has set the environment the adapters read.
  const { CatalogRepository } = await import('../functions/adapters/catalog-repository.ts');
  const { CustomersRepository } = await import('../functions/adapters/customers-repository.ts');
  const { StockRepository } = await import('../functions/adapters/stock-repository.ts');
  const stock = new StockRepository(tables.stock);
  const catalog = new CatalogRepository(tables.products);
  const customers = new CustomersRepository(tables.customers);
  await Promise.all([
    ...DEMO_PRODUCTS.map((p) => catalog.put(p)),
    ...DEMO_STOCK.map((item) => stock.put(item)),
    ...DEMO_CUSTOMERS.map((c) => customers.put(c)),
  ]);
}
