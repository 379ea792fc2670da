import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetExecutionHistoryCommand, type HistoryEvent, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKFLOW_DEFINITION_FILE } from '../../infra/workflow-definition.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { scanAll } from '../support/database.ts';
import { address, sleep, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * Fault injection: 100 orders on the real ASL while 10% of the AWS API calls the functions make
 * fail at the emulator boundary (half before the service acts, half after it acted with the
 * response lost), with the SDK allowed one retry of its own. Then the invariants that must hold
 * whatever failed where: every order terminal, none lost, stock conserved, one invoice and its
 * e-mail per completed order with gap-free numbers, no credit held, no authorization left open.
 * The test's own set-up and checks go to the emulators directly; the orders go through the API,
 * retried with the same Idempotency-Key as a checkout would.
 */
const ORDERS = 100;
const FAULT_RATE = 0.1;
const SCARCE_SKU = 'DOCK-4K';
const SCARCE_STOCK = 6;
const ON_ACCOUNT_CUSTOMER = 'CUST-1001';
const TERMINAL = ['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED'];
/** How long the workflows may take once every order is placed (2 cores shared with other work). */
const SETTLE_MS = 150_000;

let runtime: LocalRuntime;
let client: TestClient;
let db: DynamoDBDocumentClient;
let sfn: SFNClient;
let tables: { orders: string; products: string; stock: string; customers: string; invoices: string };

/** Every Task state of the definition: their retry intervals are compressed for the test. */
const taskStates = Object.entries(
  (JSON.parse(readFileSync(WORKFLOW_DEFINITION_FILE, 'utf8')) as { States: Record<string, { Type: string }> }).States,
)
  .filter(([, state]) => state.Type === 'Task')
  .map(([name]) => name);

beforeAll(async () => {
  runtime = await startTestRuntime({
    faultRate: FAULT_RATE,
    carrierDeliveryMs: 300,
    // Compressed time: retries wait 100 ms instead of seconds; a carrier silent for 30 s counts as lost.
    retryIntervalOverrides: Object.fromEntries(taskStates.map((state) => [state, 100])),
    taskTimeoutOverrides: { AwaitDelivery: { timeoutMs: 30_000, heartbeatMs: 30_000 } },
    // An order whose StartExecution failed is accepted and left to the open-orders sweep: here it may
    // take any order at once (in AWS only those older than 15 minutes, every 5 minutes).
    environment: { POWERTOOLS_LOG_LEVEL: 'ERROR', SWEEP_MIN_AGE_SECONDS: '0' },
  });
  client = new TestClient(runtime);
  const credentials = runtime.credentials;
  // Direct to the emulators, not through the fault proxies.
  db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', endpoint: runtime.urls.dynamodb, credentials, maxAttempts: 3 }),
  );
  sfn = new SFNClient({ region: 'us-east-1', endpoint: runtime.urls.stepfunctions, credentials, maxAttempts: 3 });
  const env = runtime.lambdas.environment();
  tables = {
    orders: env.ORDERS_TABLE_NAME as string,
    products: env.PRODUCTS_TABLE_NAME as string,
    stock: env.STOCK_TABLE_NAME as string,
    customers: env.CUSTOMERS_TABLE_NAME as string,
    invoices: env.INVOICES_TABLE_NAME as string,
  };
});

afterAll(async () => {
  await runtime?.stop();
});

const scan = (table: string) => scanAll(db, table);

/**
 * A caller that meets faults too: retries on 5xx and 429, with capped jittered backoff. Any other
 * refusal fails the test: a retry under the same key is never told to wait (no 409), it finds its order.
 */
async function withRetries<T>(
  what: string,
  attempt: () => Promise<{ status: number; value?: T }>,
  statuses: number[] = [],
): Promise<T> {
  const deadline = Date.now() + 150_000;
  let last = 0;
  for (let i = 0; Date.now() < deadline; i++) {
    const { status, value } = await attempt();
    statuses.push(status);
    if (status < 300) return value as T;
    if (status < 500 && status !== 429) throw new Error(`${what} answered ${status}`);
    last = status;
    await sleep(Math.min(2_000, 100 * 2 ** i) * (0.5 + Math.random()));
  }
  throw new Error(`${what} still failing (${last}) after 150 s of retries: ${statuses.join(' ')}`);
}

interface Placed {
  orderId: string;
  kind: string;
  /** What each POST attempt answered. */
  statuses: number[];
  ms: number;
}

function orderFor(index: number): { kind: string; body: Record<string, unknown> } {
  const lines = [
    { sku: 'WIDGET-BLUE', quantity: 1 + (index % 3), unitPrice: 1250 },
    { sku: index % 2 ? 'GADGET-MINI' : 'CABLE-USB-C', quantity: 1, unitPrice: index % 2 ? 3900 : 990 },
  ];
  const card = (token: string) => ({ method: 'card', token });
  const base = { customerId: 'CUST-1002', currency: 'EUR', shippingAddress: address, lines, payment: card('tok_visa') };
  switch (index % 10) {
    case 0:
      return { kind: 'declined card', body: { ...base, payment: card('tok_declined') } };
    case 1:
      return { kind: 'transient card error', body: { ...base, payment: card('tok_error') } };
    case 2:
    case 3:
      return {
        kind: 'on account',
        body: { ...base, customerId: ON_ACCOUNT_CUSTOMER, payment: { method: 'on_account' } },
      };
    case 4:
      return {
        kind: 'scarce stock',
        body: { ...base, lines: [...lines, { sku: SCARCE_SKU, quantity: 2, unitPrice: 18900 }] },
      };
    default:
      return { kind: 'card', body: base };
  }
}

async function place(index: number): Promise<Placed> {
  const { kind, body } = orderFor(index);
  const key = `fault-test-${index}-${crypto.randomUUID()}`;
  const statuses: number[] = [];
  const started = Date.now();
  const orderId = await withRetries<string>(
    `POST /orders #${index}`,
    async () => {
      // Billing a customer's account takes a caller allowed to (a rep); the web checkout takes cards.
      const caller = kind === 'on account' ? client.as('rep') : client;
      const response = await caller.request('POST', '/orders', body, { 'idempotency-key': key });
      return { status: response.status, value: response.body?.orderId as string };
    },
    statuses,
  );
  return { orderId, kind, statuses, ms: Date.now() - started };
}

/** Retries of each task state, from an execution's history: attempts scheduled beyond the state's entries. */
function taskRetries(events: HistoryEvent[], into: Record<string, number>): void {
  let state = '';
  for (const event of events) {
    if (event.type === 'TaskStateEntered') {
      state = event.stateEnteredEventDetails?.name ?? '';
      into[state] = (into[state] ?? 0) - 1;
    }
    if (event.type === 'TaskScheduled') into[state] = (into[state] ?? 0) + 1;
  }
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** An order's execution in one line per notable event: how it ended and every task failure on the way. */
async function trail(orderId: string, executions: { name?: string; status?: string; executionArn?: string }[]) {
  const execution = executions.find((e) => e.name === orderId);
  if (!execution?.executionArn) return `${orderId}: no execution`;
  const lines = [`${orderId}: execution ${execution.status}`];
  let state = '';
  for (const event of await history(execution.executionArn)) {
    if (event.type?.endsWith('StateEntered')) state = event.stateEnteredEventDetails?.name ?? state;
    const failed = event.taskFailedEventDetails ?? event.executionFailedEventDetails ?? event.taskTimedOutEventDetails;
    if (failed) lines.push(`  ${state} ${event.type}: ${failed.error} ${String(failed.cause ?? '').slice(0, 160)}`);
  }
  return lines.join('\n');
}

async function allExecutions() {
  const executions: { name?: string; status?: string; executionArn?: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: runtime.stateMachineArn, nextToken, maxResults: 1000 }),
    );
    executions.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return executions;
}

/** Stock items (not adjustment records) by `sku@warehouseId`. */
function stockBySku(items: Record<string, any>[]) {
  return new Map(
    items
      .filter((i) => !String(i.warehouseId).startsWith('ADJUSTMENT#'))
      .map((i) => [`${i.sku}@${i.warehouseId}`, i] as const),
  );
}

describe(`${ORDERS} orders while ${FAULT_RATE * 100}% of AWS calls fail`, () => {
  it('keeps every invariant', { timeout: 300_000 }, async () => {
    // Set-up through the API meets faults too.
    await withRetries('PUT stock', async () => {
      const response = await client.request('PUT', `/products/${SCARCE_SKU}/stock`, { onHand: SCARCE_STOCK });
      return { status: response.status };
    });
    const initial = stockBySku(await scan(tables.stock));
    const creditBefore = (await scan(tables.customers)).find((c) => c.customerId === ON_ACCOUNT_CUSTOMER);
    for (const product of initial.values()) expect(product.reserved, product.sku).toBe(0);

    const started = Date.now();
    const placed: Placed[] = [];
    // Twenty checkouts at a time, each retrying its own POST until it is accepted.
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < ORDERS) placed.push(await place(next++));
      }),
    );
    const placedMs = Date.now() - started;
    const orderIds = new Set(placed.map((p) => p.orderId));
    expect(orderIds.size).toBe(ORDERS);

    // Wait for every execution to end (not for the orders: an order left behind must show up below).
    const deadline = Date.now() + SETTLE_MS;
    let executions = await allExecutions();
    for (let tick = 0; executions.some((e) => e.status === 'RUNNING') || executions.length < ORDERS; tick++) {
      if (Date.now() > deadline) break;
      // The schedule's sweep (every 5 minutes in AWS), compressed: starts what was accepted but not started.
      if (executions.length < ORDERS && tick % 3 === 0) runtime.fireSchedule('WorkflowOpenOrdersSweep');
      await sleep(1_000);
      executions = await allExecutions();
    }
    await runtime.drainEvents();
    const settledMs = Date.now() - started;
    const faults = runtime.faults?.snapshot();

    // Everything the checks need, read directly.
    const orderItems = await scan(tables.orders);
    const orders = new Map(orderItems.filter((i) => i.sk === 'ORDER').map((o) => [String(o.orderId), o]));
    const reservations = orderItems.filter((i) => i.sk === 'RESERVATION');
    const products = stockBySku(await scan(tables.stock));
    const invoiceItems = await scan(tables.invoices);
    const invoices = invoiceItems.filter((i) => String(i.pk).startsWith('INVOICE#'));
    // A shipment's invoice request (`ORDER#<orderId>#<shipmentId>`), numbered: the order's invoice numbers.
    const invoiceLinks = new Map<string, string[]>();
    for (const link of invoiceItems.filter((i) => String(i.pk).startsWith('ORDER#') && i.invoiceNumber)) {
      const id = String(link.orderId);
      invoiceLinks.set(id, [...(invoiceLinks.get(id) ?? []), String(link.invoiceNumber)].sort());
    }
    // The invoice numbers each order's shipments record.
    const shipmentInvoices = new Map<string, string[]>();
    for (const shipment of orderItems.filter((i) => String(i.sk).startsWith('SHIPMENT#') && i.invoiceNumber)) {
      const id = String(shipment.orderId);
      shipmentInvoices.set(id, [...(shipmentInvoices.get(id) ?? []), String(shipment.invoiceNumber)].sort());
    }
    const counters = invoiceItems.filter((i) => String(i.pk).startsWith('COUNTER#'));
    const customer = (await scan(tables.customers)).find((c) => c.customerId === ON_ACCOUNT_CUSTOMER);
    const emails = await client.sentEmails();

    const retries: Record<string, number> = {};
    for (const execution of executions) taskRetries(await history(execution.executionArn as string), retries);

    const outcomes: Record<string, number> = {};
    for (const id of orderIds) {
      const order = orders.get(id);
      const key = order ? `${order.status}${order.failure?.code ? ` ${order.failure.code}` : ''}` : 'MISSING';
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    // Per invoice and recipient: the customer's e-mail and finance's own copy.
    const financeEmail = runtime.lambdas.environment().FINANCE_EMAIL as string;
    const emailsPerInvoice = new Map<string, number>();
    const financeCopies = new Map<string, number>();
    for (const email of emails) {
      const number = /Invoice (\S+) for order/.exec(String(email.subject ?? ''))?.[1];
      if (!number) continue;
      const to = String([email.destination?.to ?? email.to].flat().join(','));
      const perRecipient = to.includes(financeEmail) ? financeCopies : emailsPerInvoice;
      perRecipient.set(number, (perRecipient.get(number) ?? 0) + 1);
    }
    console.log(
      JSON.stringify(
        {
          orders: ORDERS,
          faultRate: FAULT_RATE,
          placedInMs: placedMs,
          settledInMs: settledMs,
          postAttempts: placed.reduce((sum, p) => sum + p.statuses.length, 0),
          postAnswers: placed
            .flatMap((p) => p.statuses)
            .reduce<Record<number, number>>((acc, status) => {
              acc[status] = (acc[status] ?? 0) + 1;
              return acc;
            }, {}),
          slowestPostMs: Math.max(...placed.map((p) => p.ms)),
          faults: faults && { total: faults.total, byService: faults.byService },
          outcomes,
          outcomesByKind: placed.reduce<Record<string, Record<string, number>>>((acc, p) => {
            const status = orders.get(p.orderId)?.status ?? 'MISSING';
            const byStatus = acc[p.kind] ?? {};
            byStatus[status] = (byStatus[status] ?? 0) + 1;
            acc[p.kind] = byStatus;
            return acc;
          }, {}),
          taskRetries: retries,
          executions: executions.reduce<Record<string, number>>((acc, e) => {
            acc[e.status as string] = (acc[e.status as string] ?? 0) + 1;
            return acc;
          }, {}),
          invoices: invoices.length,
          // An SES call whose response was lost is sent again: e-mail is at least once.
          invoiceEmailsSentTwice: [...emailsPerInvoice.values()].filter((n) => n > 1).length,
          financeCopiesSentTwice: [...financeCopies.values()].filter((n) => n > 1).length,
        },
        null,
        2,
      ),
    );

    const violations: string[] = [];
    const suspects = new Set<string>();
    const check = (ok: boolean, message: string, orderId?: string) => {
      if (ok) return;
      violations.push(message);
      if (orderId) suspects.add(orderId);
    };

    // Faults really happened, of both kinds, and reached the handlers through the SDK's single retry.
    expect(faults?.total.before).toBeGreaterThan(0);
    expect(faults?.total.after).toBeGreaterThan(0);

    // None lost: every accepted POST has its order and exactly one execution, and every execution ended.
    const executionsByName = new Map<string, number>();
    for (const e of executions) executionsByName.set(String(e.name), (executionsByName.get(String(e.name)) ?? 0) + 1);
    for (const id of orderIds) {
      check(orders.has(id), `${id}: accepted (202) but no order stored`, id);
      check(executionsByName.get(id) === 1, `${id}: ${executionsByName.get(id) ?? 0} executions`, id);
    }
    for (const e of executions) check(e.status !== 'RUNNING', `${e.name}: execution still running`);

    // Every order terminal.
    for (const id of orderIds) {
      const order = orders.get(id);
      if (order) check(TERMINAL.includes(order.status), `${id}: left ${order.status}`, id);
    }

    // Stock conserved per SKU and warehouse: on hand at start = on hand now + shipped from there;
    // available + reserved = on hand; nothing left reserved.
    const allocationsOf = (r: Record<string, any>) =>
      Object.values((r.allocations ?? {}) as Record<string, { warehouseId: string; lines: any[]; status: string }>);
    for (const [key, before] of initial) {
      const after = products.get(key);
      const shipped = reservations
        .flatMap(allocationsOf)
        .filter((a) => a.status === 'SHIPPED')
        .flatMap((a) =>
          (a.lines as { sku: string; quantity: number }[]).map((l) => ({ ...l, at: `${l.sku}@${a.warehouseId}` })),
        )
        .filter((line) => line.at === key)
        .reduce((sum, line) => sum + line.quantity, 0);
      check(
        before.onHand === after?.onHand + shipped && after?.onHand === after?.available + after?.reserved,
        `${key}: ${before.onHand} on hand at start, now ${after?.onHand} on hand (${after?.available} available + ${after?.reserved} reserved) + ${shipped} shipped`,
      );
      check(after?.reserved === 0, `${key}: ${after?.reserved} still reserved`);
      check(after?.available >= 0, `${key}: available went negative (${after?.available})`);
    }
    for (const reservation of reservations) {
      const held = allocationsOf(reservation).filter((a) => a.status === 'HELD');
      check(held.length === 0, `${reservation.orderId}: an allocation still HELD`, reservation.orderId);
    }

    // Every completed order: exactly one invoice, numbers unique and gap-free, and its e-mail.
    const numbers = invoices.map((i) => String(i.invoiceNumber)).sort();
    check(new Set(numbers).size === numbers.length, `duplicate invoice numbers: ${numbers.join(', ')}`);
    const sequence = numbers.map((n) => Number(n.split('-').at(-1)));
    sequence.forEach((n, i) => {
      check(n === i + 1, `invoice numbers not gap-free: ${numbers.join(', ')}`);
    });
    const counted = counters.reduce((sum, c) => sum + Number(c.last), 0);
    check(counted === invoices.length, `invoice counters say ${counted}, ${invoices.length} invoices exist`);
    for (const id of orderIds) {
      const order = orders.get(id);
      const invoicesOfOrder = invoices.filter((i) => i.orderId === id);
      if (order?.status === 'COMPLETED') {
        check(invoicesOfOrder.length === 1, `${id}: COMPLETED with ${invoicesOfOrder.length} invoices`);
        const number = invoicesOfOrder[0]?.invoiceNumber as string | undefined;
        check(invoiceLinks.get(id)?.join() === number, `${id}: invoice link does not match its invoice`);
        check(
          shipmentInvoices.get(id)?.join() === number,
          `${id}: its shipment shows invoice ${shipmentInvoices.get(id)?.join()}, not ${number}`,
        );
        check((emailsPerInvoice.get(number ?? '') ?? 0) >= 1, `${id}: no e-mail for invoice ${number}`);
        check((financeCopies.get(number ?? '') ?? 0) >= 1, `${id}: no finance copy of invoice ${number}`);
      } else {
        check(invoicesOfOrder.length <= 1, `${id}: ${invoicesOfOrder.length} invoices`);
      }
    }

    // Credit: no hold left on a terminal order; credit in use = the customer's open (on-account) invoices.
    for (const order of orders.values()) {
      if (TERMINAL.includes(order.status)) {
        check(
          // Invoicing moves the hold to the open balance shipment by shipment (down to 0); a failure releases it.
          !order.creditHold,
          `${order.orderId}: ${order.status} still holds ${order.creditHold} credit`,
        );
      }
    }
    const openInvoices = invoices
      .filter((i) => i.customerId === ON_ACCOUNT_CUSTOMER && i.paymentMethod === 'on_account')
      .reduce((sum, i) => sum + Number(i.totals.total), 0);
    check(
      customer?.creditUsed - creditBefore?.creditUsed === openInvoices,
      `${ON_ACCOUNT_CUSTOMER}: credit used grew by ${customer?.creditUsed - creditBefore?.creditUsed}, open invoices total ${openInvoices}`,
    );

    // No authorization left open (or pending) on a failed or rejected order.
    for (const order of orders.values()) {
      if (order.status === 'FAILED' || order.status === 'REJECTED') {
        const status = order.paymentRecord?.status;
        check(
          status !== 'AUTHORIZED' && status !== 'PENDING',
          `${order.orderId}: ${order.status} (${order.failure?.code}) with payment ${status}`,
          order.orderId,
        );
      }
    }

    if (violations.length) {
      const evidence = await Promise.all([...suspects].map((id) => trail(id, executions)));
      console.log(`Invariant violations:\n${violations.join('\n')}\n\nEvidence:\n${evidence.join('\n')}`);
    }
    expect(violations).toEqual([]);
  });
});
