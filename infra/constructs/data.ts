import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/**
 * read: get/query/scan. write: read plus put/update (no deletes, no batch writes): what the
 * workflow stages need. readwrite: everything on the items, for the few that delete.
 */
export type AccessMode = 'read' | 'write' | 'readwrite';
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];
export type TableName = 'orders' | 'products' | 'stock' | 'customers' | 'invoices' | 'idempotency' | 'approvals';

/** The environment variable through which each table reaches the handlers (functions/lib/deps.ts). */
export const TABLE_ENV: Record<TableName, string> = {
  orders: 'ORDERS_TABLE_NAME',
  products: 'PRODUCTS_TABLE_NAME',
  stock: 'STOCK_TABLE_NAME',
  customers: 'CUSTOMERS_TABLE_NAME',
  invoices: 'INVOICES_TABLE_NAME',
  idempotency: 'IDEMPOTENCY_TABLE_NAME',
  approvals: 'APPROVALS_TABLE_NAME',
};

/**
 * The order data: on-demand tables with point-in-time recovery. Key design in the repositories
 * (functions/adapters/*-repository.ts). The local runtime creates its tables from this
 * construct's synthesized output, so this is the only place they are defined.
 */
export class OrderData extends Construct {
  readonly tables: Record<TableName, TableV2>;

  constructor(scope: Construct, id: string, props: { removalPolicy?: RemovalPolicy } = {}) {
    super(scope, id);
    const common = {
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    this.tables = {
      orders: new TableV2(this, 'Orders', {
        ...common,
        partitionKey: { name: 'orderId', type: AttributeType.STRING },
        sortKey: { name: 'sk', type: AttributeType.STRING },
        globalSecondaryIndexes: [
          {
            indexName: 'byTrackingNumber',
            partitionKey: { name: 'trackingNumber', type: AttributeType.STRING },
            projectionType: ProjectionType.KEYS_ONLY,
          },
          {
            // Sparse: only orders in progress carry `openOrder` (orders-repository.ts). The reconciler's
            // sweep finds stuck orders here, oldest first, without scanning the table.
            indexName: 'openOrders',
            partitionKey: { name: 'openOrder', type: AttributeType.STRING },
            sortKey: { name: 'createdAt', type: AttributeType.STRING },
            projectionType: ProjectionType.KEYS_ONLY,
          },
          {
            // Sparse: one `BACKORDER#<sku>` item per backordered line carries `backorderSku`. Arriving
            // stock serves the orders waiting for that SKU oldest first, without a scan.
            indexName: 'backorders',
            partitionKey: { name: 'backorderSku', type: AttributeType.STRING },
            sortKey: { name: 'since', type: AttributeType.STRING },
            projectionType: ProjectionType.KEYS_ONLY,
          },
        ],
      }),
      products: new TableV2(this, 'Products', { ...common, partitionKey: { name: 'sku', type: AttributeType.STRING } }),
      // On-hand stock per product and warehouse (stock-repository.ts); adjustment audit items share it.
      stock: new TableV2(this, 'Stock', {
        ...common,
        partitionKey: { name: 'sku', type: AttributeType.STRING },
        sortKey: { name: 'warehouseId', type: AttributeType.STRING },
      }),
      customers: new TableV2(this, 'Customers', {
        ...common,
        partitionKey: { name: 'customerId', type: AttributeType.STRING },
        // How inbound channels find the customer (customers-repository.ts): a won deal's CRM company id,
        // an e-mail's sender (lower-cased into `emailKey`). Sparse: only customers with a CRM id are in the first.
        globalSecondaryIndexes: [
          {
            indexName: 'byCrmCompany',
            partitionKey: { name: 'crmCompanyId', type: AttributeType.STRING },
            projectionType: ProjectionType.KEYS_ONLY,
          },
          {
            indexName: 'byEmail',
            partitionKey: { name: 'emailKey', type: AttributeType.STRING },
            projectionType: ProjectionType.KEYS_ONLY,
          },
        ],
      }),
      invoices: new TableV2(this, 'Invoices', {
        ...common,
        partitionKey: { name: 'pk', type: AttributeType.STRING },
        // Sparse: only invoice requests still waiting for their number, oldest first (the sequencer's queue).
        globalSecondaryIndexes: [
          {
            indexName: 'pendingInvoices',
            partitionKey: { name: 'pendingYear', type: AttributeType.STRING },
            sortKey: { name: 'requestedAt', type: AttributeType.STRING },
            projectionType: ProjectionType.ALL,
          },
          {
            // Invoices by payment status (only invoices carry `status`), in number order: GET /invoices.
            indexName: 'invoicesByStatus',
            partitionKey: { name: 'status', type: AttributeType.STRING },
            sortKey: { name: 'invoiceNumber', type: AttributeType.STRING },
            projectionType: ProjectionType.ALL,
          },
          {
            // Sparse: only open invoices not yet overdue carry `openYear`, by due date: the overdue sweep.
            indexName: 'openInvoicesByDue',
            partitionKey: { name: 'openYear', type: AttributeType.STRING },
            sortKey: { name: 'dueDate', type: AttributeType.STRING },
            projectionType: ProjectionType.KEYS_ONLY,
          },
        ],
      }),
      // Powertools idempotency records: `id`, expiring through TTL on `expiration`.
      idempotency: new TableV2(this, 'Idempotency', {
        ...common,
        partitionKey: { name: 'id', type: AttributeType.STRING },
        timeToLiveAttribute: 'expiration',
      }),
      // Approval requests by their random id (the decision link's): approvals-repository.ts.
      approvals: new TableV2(this, 'Approvals', {
        ...common,
        partitionKey: { name: 'approvalId', type: AttributeType.STRING },
      }),
    };
  }

  /** Gives a function one table: its name in the conventional variable and the narrowest grant. */
  bindTable(
    fn: IFunction & { addEnvironment(key: string, value: string): unknown },
    table: TableName,
    accessMode: AccessMode,
  ): void {
    const target = this.tables[table];
    fn.addEnvironment(TABLE_ENV[table], target.tableName);
    if (accessMode === 'readwrite') target.grantReadWriteData(fn);
    else target.grantReadData(fn);
    if (accessMode === 'write') target.grant(fn, ...WRITE_ACTIONS);
  }

  /** Only DescribeTable: enough to tell the table answers (health check), nothing of its data. */
  grantDescribe(fn: IFunction & { addEnvironment(key: string, value: string): unknown }, table: TableName): void {
    fn.addEnvironment(TABLE_ENV[table], this.tables[table].tableName);
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [this.tables[table].tableArn] }),
    );
  }
}
