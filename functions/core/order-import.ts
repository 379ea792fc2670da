import { createHash } from 'node:crypto';
import { CsvError, parse } from 'csv-parse/sync';
import * as z from 'zod/mini';
import type { Problem } from './errors.ts';
import { lazySchema } from './lazy-schema.ts';
import {
  CountryCode,
  Currency,
  CustomerId,
  ExternalReference,
  FulfilmentPolicy,
  IdempotencyKey,
  OrderEntry,
  Sku,
} from './schemas.ts';

/**
 * Bulk import of orders from a spreadsheet saved as CSV (`npm run order -- import orders.csv`): one
 * row per order line; the rows sharing a `reference` form one order. Parsing and grouping are here
 * (pure); the CLI posts each order to POST /order-entries with channel `import`.
 */

/** The columns of an import file, in the order the documentation lists them. */
export const IMPORT_COLUMNS = {
  reference: "the order's reference (e.g. the customer's purchase-order number); rows sharing it form one order",
  customerId: 'the customer, e.g. CUST-1001',
  sku: 'the product, e.g. WIDGET-BLUE',
  quantity: 'a whole number, at least 1',
  unitPrice: "optional: the agreed price in minor units (cents, 1250 = 12.50); empty: the customer's list price",
  currency: "optional: ISO 4217 code; empty: the customer's currency",
  payment: "optional: card (the card on file) or on_account; empty: the customer's payment terms",
  fulfilmentPolicy: 'optional: all_or_nothing (default) or ship_available',
  shipToName:
    "optional ship-to address (name, line 1, postal code, city and country together); empty: the customer's billing address",
  shipToLine1: 'optional, with shipToName',
  shipToLine2: 'optional',
  shipToPostalCode: 'optional, with shipToName',
  shipToCity: 'optional, with shipToName',
  shipToCountry: 'optional, with shipToName: ISO 3166-1 alpha-2 code such as DE',
} as const;
export type ImportColumn = keyof typeof IMPORT_COLUMNS;
const REQUIRED_COLUMNS: ImportColumn[] = ['reference', 'customerId', 'sku', 'quantity'];
const SHIP_TO = ['shipToName', 'shipToLine1', 'shipToPostalCode', 'shipToCity', 'shipToCountry'] as const;
/** Columns every row of an order must agree on. */
const ORDER_COLUMNS: ImportColumn[] = [
  'customerId',
  'currency',
  'payment',
  'fulfilmentPolicy',
  ...SHIP_TO,
  'shipToLine2',
];

/** One order of the file, ready to post; `rows` are the file's line numbers of its lines, in order. */
export interface ImportOrder {
  reference: string;
  /** The Idempotency-Key: derived from the reference only, so a re-run of the file is the same order. */
  key: string;
  rows: number[];
  entry: OrderEntry;
}

/** A row that will not be imported, and why (each reason names its column). */
export interface RowFailure {
  row: number;
  reference?: string;
  reasons: string[];
}

export type ImportPlan =
  | { ok: true; orders: ImportOrder[]; failures: RowFailure[]; rows: number }
  /** The file as a whole cannot be read (not CSV, missing or unknown columns): nothing is imported. */
  | { ok: false; problems: string[] };

/**
 * The Idempotency-Key of an imported order: `import:<reference>`, or for a reference with other
 * characters than the key allows, a digest of it. Never the row content: a re-run of the same file is
 * the same submission under the same key (the same order); a changed order under a reference already
 * imported is refused (422) instead of becoming a second order.
 */
export function importKey(reference: string): string {
  const plain = `import:${reference}`;
  if (IdempotencyKey.safeParse(plain).success) return plain;
  return `import-sha256:${createHash('sha256').update(reference).digest('hex')}`;
}

const optional = <S extends z.ZodMiniType>(schema: S) =>
  z.pipe(
    z.transform((value: unknown) => (value === '' ? undefined : value)),
    z.optional(schema),
  );

/** A cell of digits, read as a number and then checked as one (`message` when it is not digits). */
const digits = <S extends z.ZodMiniType<number, number>>(message: string, number: S) =>
  z.pipe(z.pipe(z.string().check(z.regex(/^\d+$/, message)), z.transform(Number)), number);

const Row = /* @__PURE__ */ lazySchema(() =>
  z.object({
    reference: ExternalReference,
    customerId: CustomerId,
    sku: Sku,
    quantity: digits(
      'must be a whole number, at least 1',
      z.number().check(z.int(), z.gte(1, 'must be at least 1'), z.lte(10_000, 'must be at most 10000')),
    ),
    unitPrice: optional(
      digits(
        'must be a whole amount in minor units (cents), e.g. 1250 for 12.50',
        z.number().check(z.int(), z.lte(Number.MAX_SAFE_INTEGER)),
      ),
    ),
    currency: optional(Currency),
    payment: optional(z.enum(['card', 'on_account'], { error: 'must be card or on_account' })),
    fulfilmentPolicy: optional(z.enum(FulfilmentPolicy.options, { error: 'must be all_or_nothing or ship_available' })),
    shipToName: optional(z.string()),
    shipToLine1: optional(z.string()),
    shipToLine2: optional(z.string()),
    shipToPostalCode: optional(z.string()),
    shipToCity: optional(z.string()),
    shipToCountry: optional(CountryCode),
  }),
);
type Row = z.infer<typeof Row>;

/** Where an order entry's field comes from in the file. */
export function columnOf(path: string): string {
  const field = path.replace(/^lines\.\d+\./, '');
  const address: Record<string, string> = {
    name: 'shipToName',
    line1: 'shipToLine1',
    line2: 'shipToLine2',
    postalCode: 'shipToPostalCode',
    city: 'shipToCity',
    country: 'shipToCountry',
  };
  if (field.startsWith('shippingAddress')) return address[field.split('.')[1] ?? ''] ?? 'shipTo';
  if (field === 'externalReference') return 'reference';
  return field;
}

/** Parses an import file and groups its rows into orders; every row is either in an order or failed. */
export function planImport(text: string): ImportPlan {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // `info`: each record with the line it ends on, the row number a spreadsheet shows.
    records = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as typeof records;
  } catch (error) {
    if (error instanceof CsvError) return { ok: false, problems: [`The file is not valid CSV: ${error.message}`] };
    throw error;
  }
  const [header, ...data] = records;
  if (!header) return { ok: false, problems: ['The file is empty: expected a header row and one row per order line'] };
  const columns = header.record;
  const known = Object.keys(IMPORT_COLUMNS);
  const problems = [
    ...columns
      .filter((c) => !known.includes(c))
      .map((c) => `Unknown column "${c}"; the columns are ${known.join(', ')}`),
    ...REQUIRED_COLUMNS.filter((c) => !columns.includes(c)).map((c) => `The column ${c} is missing`),
    ...columns.filter((c, i) => columns.indexOf(c) !== i).map((c) => `The column ${c} appears more than once`),
  ];
  if (problems.length > 0) return { ok: false, problems };

  const failures: RowFailure[] = [];
  const groups = new Map<string, { row: number; values: Row }[]>();
  const rows = data.filter(({ record }) => record.some((field) => field !== ''));
  for (const { record, info } of rows) {
    const row = info.lines;
    const raw = Object.fromEntries(columns.map((c, i) => [c, record[i] ?? '']));
    const reference = raw.reference || undefined;
    if (record.length !== columns.length) {
      failures.push({ row, reference, reasons: [`has ${record.length} fields, the header has ${columns.length}`] });
      continue;
    }
    const parsed = Row.safeParse(raw);
    if (!parsed.success) {
      const reasons = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(row)'}: ${issue.message}`);
      failures.push({ row, reference, reasons });
      continue;
    }
    const values = parsed.data;
    const given = [...SHIP_TO, 'shipToLine2' as const].filter((c) => values[c] !== undefined);
    if (given.length > 0 && SHIP_TO.some((c) => values[c] === undefined)) {
      const reasons = SHIP_TO.filter((c) => values[c] === undefined).map(
        (c) => `${c}: is required with the other ship-to columns`,
      );
      failures.push({ row, reference: values.reference, reasons });
      continue;
    }
    const group = groups.get(values.reference) ?? [];
    group.push({ row, values });
    groups.set(values.reference, group);
  }

  const orders: ImportOrder[] = [];
  for (const [reference, group] of groups) {
    const failed = failures.filter((f) => f.reference === reference).map((f) => f.row);
    const [first] = group as [{ row: number; values: Row }];
    const own = new Map<number, string[]>();
    const blame = (row: number, reason: string) => own.set(row, [...(own.get(row) ?? []), reason]);
    const seen = new Map<string, number>();
    for (const { row, values } of group) {
      for (const column of ORDER_COLUMNS) {
        if (values[column] !== first.values[column])
          blame(row, `${column}: differs from row ${first.row} of order ${reference}; an order has one ${column}`);
      }
      const earlier = seen.get(values.sku);
      if (earlier !== undefined)
        blame(row, `sku: ${values.sku} is in row ${earlier} of this order too; combine the lines`);
      else seen.set(values.sku, row);
    }
    const entry = own.size === 0 && failed.length === 0 ? toEntry(reference, [first, ...group.slice(1)]) : undefined;
    if (entry?.ok) {
      orders.push({ reference, key: importKey(reference), rows: group.map((g) => g.row), entry: entry.entry });
      continue;
    }
    for (const problem of entry && !entry.ok ? entry.problems : []) {
      const line = /^lines\.(\d+)\./.exec(problem.path);
      const rowsOf = line ? [group[Number(line[1])]?.row ?? first.row] : group.map((g) => g.row);
      for (const row of rowsOf) blame(row, `${columnOf(problem.path)}: ${problem.message}`);
    }
    const bad = [...new Set([...failed, ...own.keys()])].sort((a, b) => a - b);
    for (const { row } of group) {
      const reasons = own.get(row) ?? [invalidRows(bad)];
      failures.push({ row, reference, reasons });
    }
  }
  failures.sort((a, b) => a.row - b.row);
  return { ok: true, orders, failures, rows: rows.length };
}

function toEntry(
  reference: string,
  group: [{ row: number; values: Row }, ...{ row: number; values: Row }[]],
): { ok: true; entry: OrderEntry } | { ok: false; problems: Problem[] } {
  const [{ values: first }] = group;
  const parsed = OrderEntry.safeParse({
    customerId: first.customerId,
    externalReference: reference,
    lines: group.map(({ values }) => ({
      sku: values.sku,
      quantity: values.quantity,
      ...(values.unitPrice !== undefined ? { unitPrice: values.unitPrice } : {}),
    })),
    ...(first.currency ? { currency: first.currency } : {}),
    ...(first.payment ? { payment: first.payment } : {}),
    ...(first.fulfilmentPolicy ? { fulfilmentPolicy: first.fulfilmentPolicy } : {}),
    ...(first.shipToName
      ? {
          shippingAddress: {
            name: first.shipToName,
            line1: first.shipToLine1,
            ...(first.shipToLine2 ? { line2: first.shipToLine2 } : {}),
            postalCode: first.shipToPostalCode,
            city: first.shipToCity,
            country: first.shipToCountry,
          },
        }
      : {}),
  });
  if (parsed.success) return { ok: true, entry: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  };
}

const invalidRows = (rows: number[]) =>
  rows.length === 1 ? `row ${rows[0]} of this order is invalid` : `rows ${rows.join(', ')} of this order are invalid`;

/**
 * The rows of an order the API refused, each with the reason that concerns it: a problem named on
 * `lines.<i>` is the i-th line's row; any other problem is every row's. `message` is the refusal's.
 */
export function refusedRows(order: ImportOrder, message: string, issues: Problem[]): RowFailure[] {
  const reasons = new Map<number, string[]>(order.rows.map((row) => [row, []]));
  for (const issue of issues) {
    const line = /^lines\.(\d+)(\.|$)/.exec(issue.path);
    const row = line ? order.rows[Number(line[1])] : undefined;
    for (const r of row !== undefined ? [row] : order.rows)
      reasons.get(r)?.push(`${columnOf(issue.path)}: ${issue.message}`);
  }
  const bad = [...reasons].filter(([, list]) => list.length > 0).map(([row]) => row);
  return order.rows.map((row) => {
    const own = reasons.get(row) ?? [];
    if (own.length > 0) return { row, reference: order.reference, reasons: own };
    if (bad.length > 0)
      return {
        row,
        reference: order.reference,
        reasons: [invalidRows(bad)],
      };
    return { row, reference: order.reference, reasons: [message] };
  });
}
