import { parseArgs } from 'node:util';
import { IdempotencyKey } from '../../functions/core/schemas.ts';

/**
 * The order CLI's command line, read and checked before anything is sent: a wrong option is a usage
 * error (exit 2), never a silently different run.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CreateCommand {
  name: 'create';
  /** The order entry as POST /order-entries takes it (the API checks the values; the shapes are checked here). */
  entry: Record<string, unknown>;
  /** --idempotency-key: to repeat a run that got no definite answer; absent, each run makes a new one. */
  idempotencyKey?: string;
  wait: boolean;
  /** Stop following after so many seconds; 0: until the order ends. */
  timeoutSeconds: number;
  intervalMs: number;
}

export type Command =
  | { name: 'help'; exitCode: 0 | 2 }
  | CreateCommand
  | { name: 'show'; orderId: string }
  | { name: 'import'; file: string; dryRun: boolean; concurrency: number };

export interface Invocation {
  command: Command;
  /** --api and --auth, for apiOptionsFrom. */
  flags: { api?: string; auth?: string };
}

const OPTIONS = {
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
  'idempotency-key': { type: 'string' },
  'no-wait': { type: 'boolean' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
  'dry-run': { type: 'boolean' },
  concurrency: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const parse = (argv: string[]) => parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
type Values = ReturnType<typeof parse>['values'];

/** `npm run order -- <argv>` → what to do; throws UsageError (or parseArgs' ERR_PARSE_ARGS_*) on wrong usage. */
export function parseCommand(argv: string[]): Invocation {
  const { values, positionals } = parse(argv);
  const flags = { api: values.api, auth: values.auth };
  const [name, argument] = positionals;
  if (values.help || !name) return { command: { name: 'help', exitCode: values.help ? 0 : 2 }, flags };
  if (name === 'create') return { command: createCommand(values), flags };
  if (name === 'show') {
    if (!argument) throw new UsageError('show: the order id is required, e.g. npm run order -- show ord-…');
    return { command: { name: 'show', orderId: argument }, flags };
  }
  if (name === 'import') {
    if (!argument) throw new UsageError('import: the CSV file is required, e.g. npm run order -- import orders.csv');
    const concurrency = wholeNumber('concurrency', values.concurrency, 4, 1);
    return { command: { name: 'import', file: argument, dryRun: values['dry-run'] === true, concurrency }, flags };
  }
  throw new UsageError(`Unknown command ${name}: create, show or import`);
}

function createCommand(values: Values): CreateCommand {
  if (!values.customer) throw new UsageError('create: --customer <id> is required');
  const lines = (values.line ?? []).map(parseLine);
  if (lines.length === 0) throw new UsageError('create: at least one --line <sku>:<quantity> is required');
  if (values['on-account'] && values.card) throw new UsageError('create: --on-account or --card, not both');
  const key = values['idempotency-key'];
  if (key !== undefined && !IdempotencyKey.safeParse(key).success)
    throw new UsageError(`--idempotency-key ${key}: must be 8-128 letters, digits or _ . : -`);
  return {
    name: 'create',
    entry: {
      channel: 'rep',
      customerId: values.customer,
      lines,
      ...(values['on-account'] ? { payment: 'on_account' } : values.card ? { payment: 'card' } : {}),
      ...(values['ship-to'] ? { shippingAddress: parseShipTo(values['ship-to']) } : {}),
      ...(values.reference ? { externalReference: values.reference } : {}),
      ...(values.policy ? { fulfilmentPolicy: values.policy } : {}),
      ...(values.currency ? { currency: values.currency } : {}),
    },
    ...(key !== undefined ? { idempotencyKey: key } : {}),
    wait: !values['no-wait'],
    timeoutSeconds: wholeNumber('timeout', values.timeout, 0, 0),
    intervalMs: wholeNumber('interval', values.interval, 1000, 1),
  };
}

/** A count option: digits only (`abc`, `1.5`, `-1`, `` are refused, not read as NaN or 0), at least `min`. */
function wholeNumber(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min)
    throw new UsageError(`--${flag} ${value}: expected a whole number${min > 0 ? ` of at least ${min}` : ''}`);
  return number;
}

/** `sku:qty[:unitPrice]` → an entry line (checked by the API; only the shape is checked here). */
export function parseLine(spec: string) {
  const [sku, quantity, unitPrice, ...rest] = spec.split(':');
  const whole = (value: string | undefined) => value !== undefined && /^\d+$/.test(value);
  if (!sku || !whole(quantity) || (unitPrice !== undefined && !whole(unitPrice)) || rest.length > 0)
    throw new UsageError(`--line ${spec}: expected <sku>:<quantity>[:<unit price in cents>], e.g. WIDGET-BLUE:2`);
  return { sku, quantity: Number(quantity), ...(unitPrice !== undefined ? { unitPrice: Number(unitPrice) } : {}) };
}

/** `Name|Line 1|Postal code|City|CC` (or with Line 2 after Line 1) → an address. */
export function parseShipTo(spec: string) {
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

/**
 * The command that repeats a `create` run under its key, for the shell: the same arguments, with
 * `--idempotency-key <key>` unless they have it already. Sent again, it finds the order if the first
 * run placed it, and places it once if not.
 */
export function retryCommand(argv: string[], key: string): string {
  const hasKey = argv.some((arg) => arg === '--idempotency-key' || arg.startsWith('--idempotency-key='));
  const args = hasKey ? argv : [...argv, '--idempotency-key', key];
  return ['npm', 'run', 'order', '--', ...args].map(shellQuote).join(' ');
}

const shellQuote = (arg: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
