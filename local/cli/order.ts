import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { IMPORT_COLUMNS, type ImportOrder, planImport, refusedRows } from '../../functions/core/order-import.ts';
import { type ApiAnswer, apiOptionsFrom, errorOf, OrderApi } from './api.ts';
import {
  failureReports,
  formatOrder,
  isTerminal,
  type OrderView,
  outcomeLine,
  progressBar,
  type RowReport,
  reportLines,
  statusLine,
} from './format.ts';

const USAGE = `Orders from the command line (a sales rep's direct entry, bulk import).

  npm run order -- create --customer <id> --line <sku>:<qty>[:<unit price in cents>] [--line …]
                          [--on-account | --card] [--ship-to "Name|Line 1|Postal code|City|CC"]
                          [--reference <customer's PO>] [--policy all_or_nothing|ship_available]
                          [--currency EUR] [--no-wait] [--timeout <seconds>]
  npm run order -- show <orderId>
  npm run order -- import <file.csv> [--dry-run] [--concurrency 4]

Options for every command: --api <url> (ORDER_API_URL, default http://127.0.0.1:3000),
--auth <issuer url> (ORDER_AUTH_URL, default http://127.0.0.1:$LOCAL_AUTH_PORT or 8086).
ORDER_API_TOKEN: a bearer token to use; without it one is minted for the local demo client "rep".
Exit status: 0 done (create: the order COMPLETED), 1 refused or failed, 2 wrong usage.

Import file: CSV with a header row, one row per order line; rows sharing a reference form one order.
${Object.entries(IMPORT_COLUMNS)
  .map(([column, meaning]) => `  ${column.padEnd(17)} ${meaning}`)
  .join('\n')}`;

class UsageError extends Error {}

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function explain(answer: ApiAnswer, what: string): void {
  const error = errorOf(answer);
  err(`${what}: ${answer.status} ${error.code ?? ''} ${error.message ?? ''}`.replace(/\s+/g, ' ').trim());
  for (const issue of error.issues ?? []) err(`  ${issue.path}: ${issue.message}`);
}

/** `sku:qty[:unitPrice]` → an entry line (checked by the API; only the shape is checked here). */
function parseLine(spec: string) {
  const [sku, quantity, unitPrice, ...rest] = spec.split(':');
  const whole = (value: string | undefined) => value !== undefined && /^\d+$/.test(value);
  if (!sku || !whole(quantity) || (unitPrice !== undefined && !whole(unitPrice)) || rest.length > 0)
    throw new UsageError(`--line ${spec}: expected <sku>:<quantity>[:<unit price in cents>], e.g. WIDGET-BLUE:2`);
  return { sku, quantity: Number(quantity), ...(unitPrice !== undefined ? { unitPrice: Number(unitPrice) } : {}) };
}

/** `Name|Line 1|Postal code|City|CC` (or with Line 2 after Line 1) → an address. */
function parseShipTo(spec: string) {
  const parts = spec.split('|').map((p) => p.trim());
  if (parts.length === 5) {
    const [name, line1, postalCode, city, country] = parts;
    return { name, line1, postalCode, city, country };
  }
  if (parts.length === 6) {
    const [name, line1, line2, postalCode, city, country] = parts;
    return { name, line1, line2, postalCode, city, country };
  }
  throw new UsageError(
    '--ship-to: expected "Name|Line 1|Postal code|City|CC" (or "Name|Line 1|Line 2|Postal code|City|CC")',
  );
}

async function create(api: OrderApi, values: Record<string, unknown>): Promise<number> {
  const lines = ((values.line as string[] | undefined) ?? []).map(parseLine);
  if (!values.customer) throw new UsageError('create: --customer <id> is required');
  if (lines.length === 0) throw new UsageError('create: at least one --line <sku>:<quantity> is required');
  if (values['on-account'] && values.card) throw new UsageError('create: --on-account or --card, not both');
  const entry = {
    channel: 'rep',
    customerId: values.customer,
    lines,
    ...(values['on-account'] ? { payment: 'on_account' } : values.card ? { payment: 'card' } : {}),
    ...(values['ship-to'] ? { shippingAddress: parseShipTo(values['ship-to'] as string) } : {}),
    ...(values.reference ? { externalReference: values.reference } : {}),
    ...(values.policy ? { fulfilmentPolicy: values.policy } : {}),
    ...(values.currency ? { currency: values.currency } : {}),
  };
  // One key per order, reused by every retry of this request: a retry finds the same order.
  const key = `rep-${randomUUID()}`;
  const answer = await api.send('POST', '/order-entries', entry, { 'idempotency-key': key });
  if (answer.status !== 202) {
    explain(answer, 'The order was not accepted');
    return 1;
  }
  const orderId = String(answer.body?.orderId);
  out(orderId);
  if (values['no-wait']) return 0;
  return follow(api, orderId, Number(values.timeout ?? 0), Number(values.interval ?? 1000));
}

/** Polls the order until it ends, keeping one status line up to date (a line per change when not a TTY). */
async function follow(api: OrderApi, orderId: string, timeoutSeconds: number, intervalMs: number): Promise<number> {
  const tty = process.stdout.isTTY === true;
  const deadline = timeoutSeconds > 0 ? Date.now() + timeoutSeconds * 1000 : Number.POSITIVE_INFINITY;
  let shown = '';
  for (;;) {
    const answer = await api.send('GET', `/orders/${orderId}`);
    if (answer.status !== 200) {
      if (tty && shown) process.stdout.write('\n');
      explain(answer, `Could not read order ${orderId}`);
      return 1;
    }
    const order = answer.body as unknown as OrderView;
    const line = statusLine(order);
    if (line !== shown) {
      process.stdout.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      shown = line;
    }
    if (isTerminal(order.status)) {
      if (tty) process.stdout.write('\n');
      if (order.status === 'COMPLETED') {
        out(outcomeLine(order));
        return 0;
      }
      err(outcomeLine(order));
      return 1;
    }
    if (Date.now() > deadline) {
      if (tty) process.stdout.write('\n');
      err(
        `Order ${orderId} is still ${order.status} after ${timeoutSeconds} s; follow it with: npm run order -- show ${orderId}`,
      );
      return 1;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function show(api: OrderApi, orderId: string | undefined): Promise<number> {
  if (!orderId) throw new UsageError('show: the order id is required, e.g. npm run order -- show ord-…');
  const answer = await api.send('GET', `/orders/${encodeURIComponent(orderId)}`);
  if (answer.status !== 200) {
    explain(answer, `Could not show order ${orderId}`);
    return 1;
  }
  out(formatOrder(answer.body as unknown as OrderView));
  return 0;
}

async function importFile(api: OrderApi, file: string | undefined, values: Record<string, unknown>): Promise<number> {
  if (!file) throw new UsageError('import: the CSV file is required, e.g. npm run order -- import orders.csv');
  // `npm run` starts in the project directory: a relative path is the caller's, INIT_CWD.
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    err(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return 1;
  }
  const plan = planImport(text);
  if (!plan.ok) {
    for (const problem of plan.problems) err(problem);
    err('Nothing was imported.');
    return 1;
  }
  const reports: RowReport[] = failureReports(plan.failures);
  if (values['dry-run']) {
    for (const order of plan.orders)
      for (const row of order.rows) reports.push({ row, reference: order.reference, orderId: '(would be imported)' });
    for (const line of reportLines(reports)) out(line);
    return plan.failures.length > 0 ? 1 : 0;
  }

  const concurrency = Math.max(1, Number(values.concurrency ?? 4));
  const total = plan.orders.length;
  let done = 0;
  const tty = process.stderr.isTTY === true;
  const progress = () => process.stderr.write(tty ? `\r${progressBar(done, total)}` : `${progressBar(done, total)}\n`);
  progress();
  const queue = [...plan.orders];
  const imported: string[] = [];
  const worker = async () => {
    for (let order = queue.shift(); order; order = queue.shift()) {
      const result = await importOne(api, order);
      reports.push(...result.rows);
      if (result.orderId) imported.push(result.orderId);
      done++;
      progress();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  if (tty) process.stderr.write('\n');

  for (const line of reportLines(reports)) out(line);
  const failedRows = reports.filter((r) => !r.orderId).length;
  const references = new Set([...plan.orders, ...plan.failures].map((o) => o.reference).filter(Boolean));
  out(
    `${imported.length} of ${references.size} orders imported (${plan.rows - failedRows} of ${plan.rows} rows); ${failedRows} rows not imported`,
  );
  return failedRows > 0 ? 1 : 0;
}

/** Posts one order of the file under its reference's key; every retry reuses the key. */
async function importOne(api: OrderApi, order: ImportOrder): Promise<{ orderId?: string; rows: RowReport[] }> {
  let answer: ApiAnswer;
  try {
    answer = await api.send(
      'POST',
      '/order-entries',
      { channel: 'import', ...order.entry },
      { 'idempotency-key': order.key },
    );
  } catch (error) {
    return { rows: refusedRows(order, `not sent: ${(error as Error).message}`, []) };
  }
  if (answer.status === 202) {
    const orderId = String(answer.body?.orderId);
    return { orderId, rows: order.rows.map((row) => ({ row, reference: order.reference, orderId })) };
  }
  const error = errorOf(answer);
  const message =
    error.code === 'IdempotencyKeyReused'
      ? `reference ${order.reference} was imported before with other rows or values; give the changed order a new reference`
      : `${answer.status} ${error.message}`;
  const issues = error.code === 'IdempotencyKeyReused' ? [] : (error.issues ?? []);
  return { rows: refusedRows(order, message, issues) };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      api: { type: 'string' },
      auth: { type: 'string' },
      customer: { type: 'string' },
      line: { type: 'string', multiple: true },
      'on-account': { type: 'boolean' },
      card: { type: 'boolean' },
      'ship-to': { type: 'string' },
      reference: { type: 'string' },
      policy: { type: 'string' },
      currency: { type: 'string' },
      'no-wait': { type: 'boolean' },
      timeout: { type: 'string' },
      interval: { type: 'string' },
      'dry-run': { type: 'boolean' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, argument] = positionals;
  if (values.help || !command) {
    out(USAGE);
    return values.help ? 0 : 2;
  }
  const api = new OrderApi(apiOptionsFrom(values));
  if (command === 'create') return create(api, values);
  if (command === 'show') return show(api, argument);
  if (command === 'import') return importFile(api, argument, values);
  throw new UsageError(`Unknown command ${command}: create, show or import`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    err(error instanceof Error ? error.message : String(error));
    if (usage) err('Run `npm run order -- --help` for the usage.');
    process.exitCode = usage ? 2 : 1;
  },
);
