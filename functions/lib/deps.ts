import { ApprovalsRepository } from '../adapters/approvals-repository.ts';
import { SandboxCarrier } from '../adapters/carrier.ts';
import { CatalogRepository } from '../adapters/catalog-repository.ts';
import { CreditLedger, CustomersRepository } from '../adapters/customers-repository.ts';
import { EventPublisher } from '../adapters/event-publisher.ts';
import { InvoiceLedger } from '../adapters/invoice-ledger.ts';
import { InvoicesRepository } from '../adapters/invoices-repository.ts';
import { KpiRepository } from '../adapters/kpi-repository.ts';
import { OrdersRepository } from '../adapters/orders-repository.ts';
import { SandboxPaymentProvider } from '../adapters/payments.ts';
import { BackorderLedger, StockLedger, StockRepository } from '../adapters/stock-repository.ts';
import { TaskTokens, WorkflowStarter } from '../adapters/workflow-client.ts';
import { backorders } from './backorders.ts';
import { compensations } from './compensation.ts';
import { requireEnv } from './config.ts';
import { stageRecorder } from './stages.ts';

/**
 * Builders for the adapters a handler uses, each reading its configuration. Handlers call
 * them at module load, so a missing variable fails at INIT. The variable names are set by the
 * CDK constructs' bind* methods (infra/constructs).
 */
export const ordersRepository = () => new OrdersRepository(requireEnv('ORDERS_TABLE_NAME'));
export const catalogRepository = () => new CatalogRepository(requireEnv('PRODUCTS_TABLE_NAME'));
export const stockRepository = () => new StockRepository(requireEnv('STOCK_TABLE_NAME'));
export const stockLedger = () => new StockLedger(requireEnv('STOCK_TABLE_NAME'), requireEnv('ORDERS_TABLE_NAME'));
export const backorderLedger = () =>
  new BackorderLedger(requireEnv('STOCK_TABLE_NAME'), requireEnv('ORDERS_TABLE_NAME'));
/** Serves waiting orders when stock arrives (stock routes) and resumes their workflows. */
export const backorderServer = () => {
  const orders = ordersRepository();
  return backorders({
    orders,
    ledger: backorderLedger(),
    tokens: new TaskTokens(),
    clock,
    recordStage: stageRecorder(orders, eventPublisher(), clock),
  });
};
export const customersRepository = () => new CustomersRepository(requireEnv('CUSTOMERS_TABLE_NAME'));
export const creditLedger = () => new CreditLedger(requireEnv('CUSTOMERS_TABLE_NAME'), ordersRepository());
export const invoicesRepository = () => new InvoicesRepository(requireEnv('INVOICES_TABLE_NAME'));
/** `balances: false` for the readers and the overdue sweep, which never touch a customer. */
export const invoiceLedger = (invoices: InvoicesRepository = invoicesRepository(), { balances = true } = {}) =>
  new InvoiceLedger(
    invoices,
    requireEnv('INVOICES_TABLE_NAME'),
    balances ? requireEnv('CUSTOMERS_TABLE_NAME') : undefined,
  );
export const approvalsRepository = () => new ApprovalsRepository(requireEnv('APPROVALS_TABLE_NAME'));
export const kpiRepository = () => new KpiRepository(requireEnv('KPI_TABLE_NAME'));
export const eventPublisher = () => new EventPublisher(requireEnv('EVENT_BUS_NAME'));
export const workflowStarter = () => new WorkflowStarter(requireEnv('STATE_MACHINE_ARN'));
export const taskTokens = () => new TaskTokens();

/**
 * The compensating actions (void, cancel the shipment, release stock and credit) with the sandbox
 * payment provider and carrier, as the workflow's compensation states and the reconciler use them.
 */
export const orderCompensations = (
  orders: OrdersRepository,
  recordStage: ReturnType<typeof stageRecorder> = stageRecorder(orders, eventPublisher(), clock),
  invoices?: InvoicesRepository,
) =>
  compensations({
    orders,
    payments: new SandboxPaymentProvider(),
    carrier: new SandboxCarrier({ deliveryMs: 0 }),
    stock: stockLedger(),
    credit: creditLedger(),
    invoices,
    recordStage,
  });

/**
 * The handlers' clock: the domain core never reads the time itself. Tests on the local runtime may
 * move it forward (test/support/runtime.ts `shiftClock`, e.g. to make an invoice overdue); nothing
 * sets the offset in Lambda.
 */
const CLOCK_OFFSET = Symbol.for('sales-orders.clock-offset-ms');
export const clock = () => new Date(Date.now() + Number((globalThis as Record<symbol, unknown>)[CLOCK_OFFSET] ?? 0));
