import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { IMPORT_COLUMNS, type ImportOrder, planImport, refusedRows } from '../../functions/core/order-import.ts';
import { type ApiError, apiOptionsFrom, errorOf, OrderApi } from './api.ts';
import { type CreateCommand, parseCommand, retryCommand, UsageError } from './args.ts';
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
import { importSummary, outcomeOf } from './outcome.ts';

const USAGE = `Orders from the command line (a sales rep's direct entry, bulk import).

  npm run order -- create --customer <id> --line <sku>:<qty>[:<unit price in cents>] [--line …]
                          [--on-account | --card] [--ship-to "Name|Line 1|Postal code|City|CC"]
                          [--reference <customer's PO>] [--policy all_or_nothing|ship_available]
                          [--currency EUR] [--no-wait] [--timeout <seconds>]
                          [--idempotency-key <key>]  (to repeat a run that got no definite answer)
  npm run order -- show <orderId>
  npm run order -- import <file.csv> [--dry-run] [--concurrency 4]

Options for every command: --api <url> (ORDER_API_URL, default http://127.0.0.1:3000),
--auth <issuer url> (ORDER_AUTH_URL, default http://127.0.0.1:$LOCAL_AUTH_PORT or 8086).
ORDER_API_TOKEN: a bearer token to use; without it one is minted for the local demo client "rep".
Exit status: 0 done (create: the order COMPLETED), 1 refused, failed or unknown, 2 wrong usage.

Import file: CSV with a header row, one row per order line; rows sharing a reference form one order.
${Object.entries(IMPORT_COLUMNS)
  .map(([column, meaning]) => `  ${column.padEnd(17)} ${meaning}`)
  .join('\n')}`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function explain(status: number | undefined, error: ApiError, what: string): void {
  err(`${what}: ${status ?? ''} ${error.code ?? ''} ${error.message ?? ''}`.replace(/\s+/g, ' ').trim());
  for (const issue of error.issues ?? []) err(`  ${issue.path}: ${issue.message}`);
}

async function create(api: OrderApi, command: CreateCommand, argv: string[]): Promise<number> {
  // One key per order, reused by every retry of this request: a retry finds the same order.
  const key = command.idempotencyKey ?? `rep-${randomUUID()}`;
  const undecided = (reason: string) => {
    err(`No definite answer (${reason}): the order may have been placed or not.`);
    err(
      `Its Idempotency-Key is ${key}. Run it again with that key; it finds the order if it was placed, and places it once if not:`,
    );
    err(`  ${retryCommand(argv, key)}`);
  };
  // Ctrl-C while the request is out ends the run without an answer too: the key must not be lost.
  const interrupted = () => {
    undecided('interrupted');
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  const outcome = await outcomeOf(() =>
    api.send('POST', '/order-entries', command.entry, { 'idempotency-key': key }),
  ).finally(() => process.off('SIGINT', interrupted));
  if (outcome.kind === 'unknown') {
    undecided(outcome.reason);
    return 1;
  }
  if (outcome.kind === 'refused') {
    explain(outcome.status, outcome.error, 'The order was not accepted');
    if (outcome.error.code === 'IdempotencyKeyReused' && command.idempotencyKey)
      err('That key belongs to an order with other values: repeat the first command as it was, or leave the key out.');
    return 1;
  }
  out(outcome.orderId);
  if (!command.wait) return 0;
  return follow(api, outcome.orderId, command.timeoutSeconds, command.intervalMs);
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
      explain(answer.status, errorOf(answer), `Could not read order ${orderId}`);
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

async function show(api: OrderApi, orderId: string): Promise<number> {
  const answer = await api.send('GET', `/orders/${encodeURIComponent(orderId)}`);
  if (answer.status !== 200) {
    explain(answer.status, errorOf(answer), `Could not show order ${orderId}`);
    return 1;
  }
  out(formatOrder(answer.body as unknown as OrderView));
  return 0;
}

async function importFile(api: OrderApi, file: string, dryRun: boolean, concurrency: number): Promise<number> {
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
  if (dryRun) {
    for (const order of plan.orders)
      for (const row of order.rows) reports.push({ row, reference: order.reference, outcome: 'planned' });
    for (const line of reportLines(reports)) out(line);
    return plan.failures.length > 0 ? 1 : 0;
  }

  const total = plan.orders.length;
  let done = 0;
  const tty = process.stderr.isTTY === true;
  const progress = () => process.stderr.write(tty ? `\r${progressBar(done, total)}` : `${progressBar(done, total)}\n`);
  progress();
  const queue = [...plan.orders];
  const worker = async () => {
    for (let order = queue.shift(); order; order = queue.shift()) {
      reports.push(...(await importOne(api, order)));
      done++;
      progress();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  if (tty) process.stderr.write('\n');

  for (const line of reportLines(reports)) out(line);
  const references = new Set([...plan.orders, ...plan.failures].map((o) => o.reference).filter(Boolean));
  const summary = importSummary(reports, { orders: references.size, rows: plan.rows });
  out(summary.line);
  return summary.exitCode;
}

/** Posts one order of the file under its reference's key; every retry reuses the key. */
async function importOne(api: OrderApi, order: ImportOrder): Promise<RowReport[]> {
  const outcome = await outcomeOf(() =>
    api.send('POST', '/order-entries', { channel: 'import', ...order.entry }, { 'idempotency-key': order.key }),
  );
  const { reference } = order;
  if (outcome.kind === 'accepted')
    return order.rows.map((row) => ({ row, reference, outcome: 'imported', orderId: outcome.orderId }));
  if (outcome.kind === 'unknown')
    return order.rows.map((row) => ({ row, reference, outcome: 'unknown', reason: outcome.reason }));
  const { error, status } = outcome;
  const reused = error.code === 'IdempotencyKeyReused';
  const message = reused
    ? `reference ${reference} was imported before with other rows or values; give the changed order a new reference`
    : status === undefined
      ? `not sent: ${error.message}`
      : `${status} ${error.message}`;
  return failureReports(refusedRows(order, message, reused ? [] : (error.issues ?? [])));
}

async function main(argv: string[]): Promise<number> {
  const { command, flags } = parseCommand(argv);
  if (command.name === 'help') {
    out(USAGE);
    return command.exitCode;
  }
  const api = new OrderApi(apiOptionsFrom(flags));
  if (command.name === 'create') return create(api, command, argv);
  if (command.name === 'show') return show(api, command.orderId);
  return importFile(api, command.file, command.dryRun, command.concurrency);
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
