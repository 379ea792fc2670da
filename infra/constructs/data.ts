import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { WINDOW_ATTRIBUTES } from '../../functions/core/kpi-projection.ts';

/**
 * read: get/query/scan. write: read plus put/update (no deletes, no batch writes): what the
 * workflow stages need. readwrite: everything on the items, for the few that delete.
 */
export type AccessMode = 'read' | 'write' | 'readwrite';
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];
export type TableName =
  | 'orders'
  | 'products'
  | 'stock'
  | 'customers'
  | 'invoices'
  | 'idempotency'
  | 'approvals'
  | 'kpis';

/** The environment variable through which each table reaches the handlers (functions/lib/deps.ts). */
export const TABLE_ENV: Record<TableName, string> = {
  orders: 'ORDERS_TABLE_NAME',
  products: 'PRODUCTS_TABLE_NAME',
  stock: 'STOCK_TABLE_NAME',
  customers: 'CUSTOMERS_TABLE_NAME',
  invoices: 'INVOICES_TABLE_NAME',
  idempotency: 'IDEMPOTENCY_TABLE_NAME',
  approvals: 'APPROVALS_TABLE_NAME',
  kpis: 'KPI_TABLE_NAME',
};

/** What GET /orders returns of an order (OrderSummary): the search indexes project these and nothing else. */
const SEARCH_SUMMARY = [
  'status',
  'customerId',
  'channel',
  'externalReference',
  'currency',
  'totals',
  'createdAt',
  'updatedAt',
];

/** A sparse order-search index: partition `partition`, sort `placedAt`, the summary projected. */
function searchIndex(indexName: string, partition: string) {
  return {
    indexName,
    partitionKey: { name: partition, type: AttributeType.STRING },
    sortKey: { name: 'placedAt', type: AttributeType.STRING },
    projectionType: ProjectionType.INCLUDE,
    // A key attribute is projected anyway and may not be listed again.
    nonKeyAttributes: SEARCH_SUMMARY.filter((attribute) => attribute !== partition),
  };
}

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
          {
            // Sparse: only survey answers whose FeedbackReceived is not yet published carry
            // `feedbackUnpublished` (orders-repository.ts): the sweep publishes those a failed request
            // left behind, without a scan. It projects what the event needs.
            indexName: 'unpublishedFeedback',
            partitionKey: { name: 'feedbackUnpublished', type: AttributeType.STRING },
            sortKey: { name: 'feedbackAnsweredAt', type: AttributeType.STRING },
            projectionType: ProjectionType.INCLUDE,
            nonKeyAttributes: ['customerId', 'createdAt', 'feedback'],
          },
          // Order search (GET /orders, functions/core/order-search.ts). Sparse: the sort key `placedAt`
          // (= createdAt, UTC ms) is written once, on the order item only, so shipment, backorder and
          // reservation items — some with a `status` or `customerId` of their own — never appear. Newest
          // first in each partition; the filters not in the key are FilterExpressions. The projection is
          // the summary the search returns, so a page is one read of the index, never of the orders.
          // byCustomer: a customer's orders (a customer-bound client's search always lands here).
          searchIndex('byCustomer', 'customerId'),
          // byStatus: all orders in a status (reps' and ops' work queues). The key changes with the
          // status: a page sequence over a status can miss or repeat an order that moves meanwhile.
          searchIndex('byStatus', 'status'),
          // byDay: one partition per UTC day (`placedDay`), walked from `to` back to `from` when neither
          // customer nor status narrows the search. One partition takes a day's order writes: beyond
          // ~1,000 writes a second (order updates included, as they rewrite the projection) shard it.
          searchIndex('byDay', 'placedDay'),
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
      // Powertools idempotency records of CRM events (crm-deals.ts): `id`, expiring through TTL on `expiration`.
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
      // The KPI projection (functions/core/kpi-projection.ts, adapters/kpi-repository.ts): one facts item
      // per order, sharded counters per placed day and per survey answer day, keyed by `pk`.
      kpis: new TableV2(this, 'Kpis', {
        ...common,
        partitionKey: { name: 'pk', type: AttributeType.STRING },
        globalSecondaryIndexes: [
          {
            // Sparse: only facts items carry `dayShard` (DAY#<placed day>#<shard>): a window's facts
            // for the percentiles, a partition per day and shard, never a scan. Only what the
            // percentiles read is projected, so a window's read costs what they need.
            indexName: 'byPlacedDay',
            partitionKey: { name: 'dayShard', type: AttributeType.STRING },
            sortKey: { name: 'orderId', type: AttributeType.STRING },
            projectionType: ProjectionType.INCLUDE,
            nonKeyAttributes: WINDOW_ATTRIBUTES.filter((name) => name !== 'orderId'),
          },
        ],
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

  /**
   * Gives a function one table for exactly these item actions on its keys (no query, no index, no
   * scan): a public route that reads and updates the one item its link names.
   */
  bindItems(
    fn: IFunction & { addEnvironment(key: string, value: string): unknown },
    table: TableName,
    actions: readonly ('dynamodb:GetItem' | 'dynamodb:UpdateItem')[],
  ): void {
    fn.addEnvironment(TABLE_ENV[table], this.tables[table].tableName);
    fn.addToRolePolicy(new PolicyStatement({ actions: [...actions], resources: [this.tables[table].tableArn] }));
  }

  /** Only DescribeTable: enough to tell the table answers (health check), nothing of its data. */
  grantDescribe(fn: IFunction & { addEnvironment(key: string, value: string): unknown }, table: TableName): void {
    fn.addEnvironment(TABLE_ENV[table], this.tables[table].tableName);
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:DescribeTable'], resources: [this.tables[table].tableArn] }),
    );
  }
}
