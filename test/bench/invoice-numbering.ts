/**
 * Invoice numbering throughput (`npm run bench -- invoices`, about 20 s): BENCH_INVOICES (200)
 * shipments ask for their invoice at the same moment, each through its own InvoicesRepository (as
 * each IssueInvoice invocation in its own Lambda environment does; each call is a lease owner) with the
 * handler's settlement and wait (functions/issue-invoice/handler.ts), against the local runtime's
 * DynamoDB. An InvoiceNumberPending is retried as the workflow's Retry does it (1 s, x1.5, full jitter).
 *
 * Measured against one invoice at a time (median of 5) and the reference round trip of the same run:
 * invoices/s, each invoice's wait, and from the counter item (read every 20 ms) how many numbering
 * transactions there were and when the last number was given, so the time the waiting requesters
 * take to notice their number (the poll backoff) shows apart from the numbering itself. Each part
 * uses a year of its own (a century ahead: no order's invoice is numbered there), so the numbers
 * checked are exactly 1..N: no gaps, no duplicates, the counter at N.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamo as sharedDynamo } from '../../functions/adapters/clients/dynamodb.ts';
import { InvoicesRepository } from '../../functions/adapters/invoices-repository.ts';
import { InvoiceNumberPending } from '../../functions/core/errors.ts';
import { invoiceDraft } from '../../functions/core/invoicing.ts';
import { totalsOf } from '../../functions/core/pricing.ts';
import type { PricedLine } from '../../functions/core/schemas.ts';
import { SELLER } from '../../functions/core/seller.ts';
import { creditLedger, customersRepository } from '../../functions/lib/deps.ts';
import { invoiceSettlement } from '../../functions/lib/invoice-settlement.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { sleep } from '../support/runtime.ts';
import { counterSteps, numberingGaps } from './figures.ts';
import { type Check, meets, progress, type ScenarioResult } from './report.ts';

const INVOICES = Number(process.env.BENCH_INVOICES ?? 200);
const SINGLE_ROUNDS = 5;
/** IssueInvoice waits this long for its number before InvoiceNumberPending (its timeout less the delivery). */
const WAIT_MS = 20_000;

export async function invoiceNumbering(runtime: LocalRuntime, referenceMs: number): Promise<ScenarioResult> {
  const env = runtime.lambdas.environment();
  const table = env.INVOICES_TABLE_NAME as string;
  const customers = customersRepository();
  const customer = await customers.find('CUST-1002');
  if (!customer) throw new Error('The demo customer CUST-1002 is missing');
  const settle = invoiceSettlement(creditLedger(), customers);
  const line: PricedLine = {
    sku: 'CABLE-USB-C',
    name: 'USB-C cable',
    quantity: 1,
    unitPrice: 990,
    taxCategory: 'standard',
    taxRateBasisPoints: 1900,
    discountBasisPoints: 0,
    lineDiscount: 0,
    lineSubtotal: 990,
    lineTax: 188,
  };
  const draft = (orderId: string) => ({
    ...invoiceDraft({
      order: {
        orderId,
        currency: 'EUR',
        shippingAddress: customer.billingAddress,
        payment: { method: 'card', token: 'tok_visa' },
        lines: [line],
        totals: totalsOf([line]),
      },
      customer,
      seller: SELLER,
      issuedAt: new Date(),
    }),
    shipmentId: `${orderId}-A1`,
  });
  let pendingRetries = 0;
  /** One IssueInvoice's numbering, retried on InvoiceNumberPending as the workflow does. */
  const issue = async (orderId: string, year: number) => {
    const started = performance.now();
    const repository = new InvoicesRepository(table);
    for (let attempt = 0; ; attempt++) {
      try {
        const invoice = await repository.issue(draft(orderId), year, { settle, waitMs: WAIT_MS });
        return { number: Number(invoice.invoiceNumber.slice(-6)), ms: performance.now() - started };
      } catch (error) {
        if (!(error instanceof InvoiceNumberPending) || attempt >= 30) throw error;
        pendingRetries++;
        await sleep(Math.random() * Math.min(10_000, 1_000 * 1.5 ** attempt));
      }
    }
  };

  const year = new Date().getUTCFullYear() + 100;
  // A pending request as stored (the pending index projects it whole): its size decides its write units.
  const requestBytes = Buffer.byteLength(
    JSON.stringify(new InvoicesRepository(table).requestItem('INV', 'ord-x#ord-x-A1', draft('ord-x'), year)),
  );
  const run = `${Date.now().toString(36)}`;
  // One at a time: what one invoice costs with nobody else asking.
  const single: number[] = [];
  for (let i = 0; i < SINGLE_ROUNDS; i++) {
    progress.update('invoices: one at a time', { done: i, of: SINGLE_ROUNDS });
    single.push((await issue(`ord-bench-${run}-single-${i}`, year)).ms);
  }

  // All at once, with the counter watched.
  const dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: runtime.urls.dynamodb,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const samples: { at: number; last: number }[] = [];
  const started = performance.now();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const counter = await dynamo.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: `COUNTER#${year + 1}` } }, ConsistentRead: true }),
      );
      samples.push({ at: performance.now() - started, last: Number(counter.Item?.last?.N ?? 0) });
      progress.update('invoices: at once', { numbered: samples.at(-1)?.last ?? 0, of: INVOICES });
      await sleep(20);
    }
  })();
  // Every DynamoDB call of the process while the invoices are issued (the adapters' shared client), by command.
  const calls = new Map<string, number>();
  sharedDynamo().middlewareStack.add(
    (next, context) => (args) => {
      calls.set(context.commandName ?? '?', (calls.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchCallCounter' },
  );
  let issued: { number: number; ms: number }[];
  try {
    issued = await Promise.all(
      Array.from({ length: INVOICES }, (_, i) => issue(`ord-bench-${run}-${String(i).padStart(4, '0')}`, year + 1)),
    );
  } finally {
    watching = false;
    sharedDynamo().middlewareStack.remove('benchCallCounter');
    await watcher.catch(() => undefined);
    dynamo.destroy();
  }
  const wallMs = performance.now() - started;
  progress.clear();

  const steps = counterSteps(samples).filter((s) => s.last > 0);
  const allNumberedAtMs = steps.find((s) => s.last >= INVOICES)?.at ?? Number.NaN;
  const { first, last, gaps, duplicates } = numberingGaps(issued.map((i) => i.number));
  const waits = issued.map((i) => i.ms).sort((a, b) => a - b);
  const at = (p: number) => waits[Math.min(waits.length - 1, Math.floor((waits.length * p) / 100))] ?? Number.NaN;
  const singleMs = [...single].sort((a, b) => a - b)[Math.floor(single.length / 2)] ?? Number.NaN;
  const perSecond = INVOICES / (wallMs / 1000);
  const figures = {
    referenceRoundTripMs: Number(referenceMs.toFixed(2)),
    referenceRoundTripsPerSecond: Math.round(1000 / referenceMs),
    singleInvoiceMedianMs: Math.round(singleMs),
    singleInvoiceRoundTrips: Math.round(singleMs / referenceMs),
    sequentialInvoicesPerSecond: Number((1000 / singleMs).toFixed(1)),
    pendingRequestBytes: requestBytes,
    concurrentInvoices: INVOICES,
    wallMs: Math.round(wallMs),
    invoicesPerSecond: Number(perSecond.toFixed(1)),
    invoicesPerHundredRoundTripsPerSecond: Number(((perSecond * 100 * referenceMs) / 1000).toFixed(2)),
    roundTripsPerInvoice: Number((wallMs / INVOICES / referenceMs).toFixed(1)),
    numberingTransactionsSeen: steps.length,
    /** When the counter moved (ms after the start) and to what: one step per numbering transaction. */
    counterSteps: steps.map((s) => `${Math.round(s.at)}:${s.last}`).join(' '),
    allNumberedAtMs: Math.round(allNumberedAtMs),
    /** After the last number was given, until the last requester had noticed it: the poll backoff's share. */
    noticedAfterNumberedMs: Math.round(wallMs - allNumberedAtMs),
    waitP50Ms: Math.round(at(50)),
    waitP95Ms: Math.round(at(95)),
    waitMaxMs: Math.round(waits.at(-1) ?? Number.NaN),
    invoiceNumberPendingRetries: pendingRetries,
    dynamoCallsPerInvoice: Number(([...calls.values()].reduce((a, b) => a + b, 0) / INVOICES).toFixed(1)),
    dynamoCalls: JSON.stringify(Object.fromEntries(calls)),
    numbers: `${first}..${last}`,
    gaps,
    duplicates,
  };
  const checks: Check[] = [
    meets('invoices issued', issued.length, '=', INVOICES),
    meets('numbers: gaps', gaps, '=', 0),
    meets('numbers: duplicates', duplicates, '=', 0),
    meets('numbers: the last is the count (counter = N)', last, '=', INVOICES),
    meets(
      'concurrent invoices/s per sequential invoices/s (batching makes many at once faster, not slower)',
      Number((perSecond / (1000 / singleMs)).toFixed(2)),
      '>=',
      1,
    ),
  ];
  return { section: 'invoice numbering', figures, checks };
}
