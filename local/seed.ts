import type { Customer, Product } from '../functions/core/schemas.ts';

/** Demo data for `npm start` and the tests: a small EUR catalog with stock, and a few customers. */
export const DEMO_PRODUCTS: Product[] = [
  {
    sku: 'WIDGET-BLUE',
    name: 'Widget, blue',
    unitPrice: 1250,
    currency: 'EUR',
    active: true,
    available: 500,
    reserved: 0,
  },
  {
    sku: 'WIDGET-RED',
    name: 'Widget, red',
    unitPrice: 1250,
    currency: 'EUR',
    active: true,
    available: 300,
    reserved: 0,
  },
  {
    sku: 'GADGET-PRO',
    name: 'Gadget Pro',
    unitPrice: 8900,
    currency: 'EUR',
    active: true,
    available: 120,
    reserved: 0,
  },
  {
    sku: 'GADGET-MINI',
    name: 'Gadget Mini',
    unitPrice: 3900,
    currency: 'EUR',
    active: true,
    available: 200,
    reserved: 0,
  },
  {
    sku: 'CABLE-USB-C',
    name: 'USB-C cable 2 m',
    unitPrice: 990,
    currency: 'EUR',
    active: true,
    available: 1000,
    reserved: 0,
  },
  {
    sku: 'DOCK-4K',
    name: '4K docking station',
    unitPrice: 18900,
    currency: 'EUR',
    active: true,
    available: 40,
    reserved: 0,
  },
  {
    sku: 'MONITOR-27',
    name: '27" monitor',
    unitPrice: 32900,
    currency: 'EUR',
    active: true,
    available: 25,
    reserved: 0,
  },
  {
    sku: 'KEYBOARD-MX',
    name: 'Mechanical keyboard',
    unitPrice: 11900,
    currency: 'EUR',
    active: true,
    available: 60,
    reserved: 0,
  },
  {
    sku: 'MOUSE-ERGO',
    name: 'Ergonomic mouse',
    unitPrice: 5900,
    currency: 'EUR',
    active: true,
    available: 80,
    reserved: 0,
  },
  {
    sku: 'LAMP-LED',
    name: 'LED desk lamp (discontinued)',
    unitPrice: 4500,
    currency: 'EUR',
    active: false,
    available: 10,
    reserved: 0,
  },
];

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

export async function seedDemoData(tables: { products: string; customers: string }): Promise<void> {
  // Imported here, after the runtime has set the environment the adapters read.
  const { CatalogRepository } = await import('../functions/adapters/catalog-repository.ts');
  const { CustomersRepository } = await import('../functions/adapters/customers-repository.ts');
  const catalog = new CatalogRepository(tables.products);
  const customers = new CustomersRepository(tables.customers);
  await Promise.all([...DEMO_PRODUCTS.map((p) => catalog.put(p)), ...DEMO_CUSTOMERS.map((c) => customers.put(c))]);
}
