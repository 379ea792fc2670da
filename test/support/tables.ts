import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SELLER } from '../../functions/core/seller.ts';
import { OrderData, type TableName } from '../../infra/constructs/data.ts';
import { type Resources, tablesOf } from '../../local/template.ts';
import { ownDatabase } from './database.ts';

export interface LocalTables {
  /** The shared DynamoDB Local (test/support/shared-dynamodb.ts); these tables are in a database of their own. */
  endpoint: string;
  db: DynamoDBDocumentClient;
  /** Each table's local name (as the runtime names it: `DataOrders`, `DataInvoices`, …). */
  names: Record<TableName, string>;
  stop(): Promise<void>;
}

/**
 * The product's tables in DynamoDB Local, created from the OrderData construct itself (keys,
 * indexes), so repository tests run against the tables as deployed; deleted by `stop`. Sets the
 * environment the adapters' shared client reads (endpoint, region, credentials).
 */
export async function startTables(): Promise<LocalTables> {
  const stack = new Stack(new App(), 'Tables');
  const data = new OrderData(stack, 'Data');
  const { tables } = tablesOf(Template.fromStack(stack).toJSON().Resources as Resources);
  const names = Object.fromEntries(
    Object.entries(data.tables).map(([table, construct]) => [table, `Data${construct.node.id}`]),
  ) as Record<TableName, string>;

  const { endpoint, credentials } = ownDatabase();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  });
  // The adapters' default credential chain skips the environment's key when a profile is named.
  delete process.env.AWS_PROFILE;
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const stop = async () => {
    try {
      await Promise.allSettled(tables.map(({ TableName }) => raw.send(new DeleteTableCommand({ TableName }))));
    } finally {
      raw.destroy();
    }
  };
  const created = await Promise.allSettled(tables.map((table) => raw.send(new CreateTableCommand(table))));
  const failed = created.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { endpoint, db: DynamoDBDocumentClient.from(raw), names, stop };
}

/** An invoice item as the invoices table stores it: paid by card, one line of 2 × 10.00 at 19 %. */
export const storedCardInvoice = (n: string, orderId: string) => ({
  pk: `INVOICE#${n}`,
  invoiceNumber: n,
  orderId,
  customerId: 'CUST-1001',
  customerName: 'Jane Doe',
  customerEmail: 'jane@example.com',
  seller: SELLER,
  issuedAt: '2026-03-01T10:00:00.000Z',
  dueDate: '2026-03-01T10:00:00.000Z',
  currency: 'EUR',
  lines: [
    {
      sku: 'SKU-1',
      name: 'Widget',
      quantity: 2,
      unitPrice: 1000,
      taxCategory: 'standard',
      taxRateBasisPoints: 1900,
      discountBasisPoints: 0,
      lineDiscount: 0,
      lineSubtotal: 2000,
      lineTax: 380,
    },
  ],
  totals: {
    subtotal: 2000,
    discount: 0,
    tax: 380,
    total: 2380,
    taxByRate: [{ rateBasisPoints: 1900, net: 2000, tax: 380 }],
  },
  billingAddress: { name: 'Jane Doe', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  paymentMethod: 'card',
  status: 'paid',
  amountPaid: 2380,
  amountCredited: 0,
});
