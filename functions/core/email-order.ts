import { CsvLineError, csvCells } from './csv-line.ts';
import type { EmailProblem } from './email-order-format.ts';
import type { Problem } from './errors.ts';
import { parseEntry } from './order-entry.ts';
import { FulfilmentPolicy, hasControlCharacters, type OrderEntry, Sku } from './schemas.ts';

export { EMAIL_ORDER_FORMAT, type EmailProblem, problemLine } from './email-order-format.ts';

/**
 * Orders by e-mail (README "Orders by e-mail"): the plain-text body format and the CSV attachment,
 * read into an OrderEntry. Pure: the MIME parsing, the sender's customer and the intake are the caller's.
 *
 * Body, one statement a line (blank lines ignored, keys case-insensitive):
 *   Reference: PO-4711                       the customer's purchase-order number (externalReference)
 *   Payment: card | on_account               absent: the customer's payment terms
 *   Policy: all_or_nothing | ship_available  absent: all_or_nothing
 *   WIDGET-BLUE x 2 [@ 1250]                 SKU x QUANTITY, optionally @ UNIT PRICE in minor units (cents)
 * Reading stops at a signature separator (`-- `), a quoted reply (`>` lines, and the "… wrote:" line
 * before them) or an original-message marker. Any other line is a problem, named by its line number.
 * A CSV attachment (`sku,quantity[,unitPrice]`, `,` or `;`, optional header row) adds lines.
 */

export interface EmailAttachment {
  filename: string | null;
  mimeType: string;
  /** The attachment decoded as text (only CSV attachments are read). */
  content: string;
}

/** Where each part of the entry came from, by entry path (`lines.2`, `externalReference`), in reading order. */
export type EntrySources = Record<string, { where: string; rank: number }>;

export type EmailOrderParse =
  | { ok: true; entry: OrderEntry; sources: EntrySources }
  | { ok: false; problems: EmailProblem[] };

const CSV_TYPES = new Set(['text/csv', 'application/csv', 'text/comma-separated-values', 'text/x-csv']);

/** The attachments read as order lines: a `.csv` file name or a CSV media type. */
export function isOrderCsv(attachment: Pick<EmailAttachment, 'filename' | 'mimeType'>): boolean {
  return CSV_TYPES.has(attachment.mimeType.toLowerCase()) || /\.csv$/i.test(attachment.filename?.trim() ?? '');
}

const SHOWN_TEXT = 60;
/** A line as quoted back to its sender: one line, control characters out, shortened. */
const shown = (text: string) => {
  const clean = [...text].map((c) => (hasControlCharacters(c) ? ' ' : c)).join('');
  return JSON.stringify(clean.length > SHOWN_TEXT ? `${clean.slice(0, SHOWN_TEXT)}…` : clean);
};

interface Located extends EmailProblem {
  rank: number;
}

type Line = OrderEntry['lines'][number];
/** OrderLineRequest's limit, said in words here (the schema's own message is zod's default). */
const MAX_QUANTITY = 10_000;

/** One item (a body line or a CSV row) checked field by field: the line, or what is wrong with it. */
function readItem(sku: string, quantity: string, unitPrice: string | undefined): Line | string[] {
  const problems: string[] = [];
  const code = sku.trim().toUpperCase();
  const skuCheck = Sku.safeParse(code);
  if (!skuCheck.success) problems.push(`SKU ${shown(sku.trim())} ${skuCheck.error.issues[0]?.message}`);
  const qty = quantity.trim();
  if (!/^\d+$/.test(qty)) problems.push(`quantity ${shown(qty)} is not a whole number`);
  else if (Number(qty) > MAX_QUANTITY) problems.push(`quantity must be at most ${MAX_QUANTITY}`);
  const price = unitPrice?.trim();
  if (price !== undefined && price !== '') {
    if (!/^\d+$/.test(price)) {
      problems.push(`unit price ${shown(price)} must be a whole number of cents (minor units), e.g. 1250 for 12.50`);
    } else if (!Number.isSafeInteger(Number(price))) {
      problems.push(`unit price ${shown(price)} is too large`);
    }
  }
  if (problems.length > 0) return problems;
  return {
    sku: code,
    quantity: Number(qty),
    ...(price !== undefined && price !== '' ? { unitPrice: Number(price) } : {}),
  };
}

const HEADER = /^(reference|payment|policy)\s*:\s*(.*)$/i;
const ITEM = /^(\S+)\s+[x×]\s*(\S+?)(?:\s*@\s*(\S+))?$/i;
const QUOTE_ATTRIBUTION = /wrote:\s*$/i;
const ORIGINAL_MESSAGE = /^(-{2,}\s*original message\s*-{2,}|_{10,}|-{2,}\s*forwarded message\s*-{2,})$/i;
const normalized = (value: string) =>
  value
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

interface Draft {
  externalReference?: string;
  payment?: 'card' | 'on_account';
  fulfilmentPolicy?: OrderEntry['fulfilmentPolicy'];
  lines: Line[];
}

/** The body's statements into the draft; returns the problems, ranked by line number. */
function readBody(text: string, draft: Draft, sources: EntrySources): Located[] {
  const problems: Located[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  const seen: Record<string, number> = {};
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] as string;
    const number = index + 1;
    const where = `line ${number}`;
    const line = raw.trim();
    if (/^--\s*$/.test(raw)) break; // the signature separator "-- "
    if (line.startsWith('>') || ORIGINAL_MESSAGE.test(line)) break;
    if (QUOTE_ATTRIBUTION.test(line) && nextContentLine(lines, index)?.trim().startsWith('>')) break;
    if (line === '') continue;
    const problem = (message: string) => problems.push({ where, message, rank: number });

    const header = HEADER.exec(line);
    if (header) {
      const key = (header[1] as string).toLowerCase();
      const value = (header[2] as string).trim();
      const label = key.charAt(0).toUpperCase() + key.slice(1);
      if (seen[key] !== undefined) {
        problem(`${label} is given twice (first on line ${seen[key]})`);
        continue;
      }
      seen[key] = number;
      if (key === 'reference') {
        if (value === '') problem('Reference is empty');
        else {
          draft.externalReference = value;
          sources.externalReference = { where, rank: number };
        }
      } else if (key === 'payment') {
        const method = normalized(value);
        if (method === 'card' || method === 'on_account') {
          draft.payment = method;
          sources.payment = { where, rank: number };
        } else problem(`Payment ${shown(value)} must be card or on_account`);
      } else {
        const policy = FulfilmentPolicy.safeParse(normalized(value));
        if (policy.success) {
          draft.fulfilmentPolicy = policy.data;
          sources.fulfilmentPolicy = { where, rank: number };
        } else problem(`Policy ${shown(value)} must be all_or_nothing or ship_available`);
      }
      continue;
    }

    const item = ITEM.exec(line);
    if (!item) {
      problem(
        `${shown(line)} is not an order line; expected "SKU x QUANTITY [@ UNIT PRICE]", "Reference: …", "Payment: …" or "Policy: …"`,
      );
      continue;
    }
    if (/^\d+$/.test(item[1] as string) && !/^\d+$/.test(item[2] as string)) {
      problem(`write the SKU first, then the quantity: ${shown(`${(item[2] as string).toUpperCase()} x ${item[1]}`)}`);
      continue;
    }
    const read = readItem(item[1] as string, item[2] as string, item[3]);
    if (Array.isArray(read)) for (const message of read) problem(message);
    else {
      sources[`lines.${draft.lines.length}`] = { where, rank: number };
      draft.lines.push(read);
    }
  }
  return problems;
}

function nextContentLine(lines: string[], index: number): string | undefined {
  return lines.slice(index + 1).find((line) => line.trim() !== '');
}

const COLUMN_NAMES: Record<string, 'sku' | 'quantity' | 'unitPrice'> = {
  sku: 'sku',
  quantity: 'quantity',
  qty: 'quantity',
  unitprice: 'unitPrice',
  unit_price: 'unitPrice',
  'unit price': 'unitPrice',
  price: 'unitPrice',
};

/** One CSV attachment's rows into the draft. Each physical line is one row, so every bad row is named. */
function readCsv(name: string, content: string, rankBase: number, draft: Draft, sources: EntrySources): Located[] {
  const problems: Located[] = [];
  const lines = content.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  let columns: ('sku' | 'quantity' | 'unitPrice')[] = ['sku', 'quantity', 'unitPrice'];
  let first = true;
  for (let index = 0; index < lines.length; index++) {
    const number = index + 1;
    const where = `${name} line ${number}`;
    const problem = (message: string) => problems.push({ where, message, rank: rankBase + number });
    const text = (lines[index] as string).trim();
    if (text === '') continue;
    let cells: string[];
    try {
      cells = csvCells(text);
    } catch (error) {
      if (!(error instanceof CsvLineError)) throw error;
      problem(error.code === 'QUOTE_NOT_CLOSED' ? 'a quote is not closed' : 'is not valid CSV');
      continue;
    }
    if (cells.every((cell) => cell === '')) continue;
    const isHeader = first && cells.some((cell) => cell.toLowerCase() === 'sku');
    first = false;
    if (isHeader) {
      const named = cells.map((cell) => COLUMN_NAMES[cell.toLowerCase()]);
      const unknown = cells.filter((_, i) => named[i] === undefined);
      // A header that cannot be read leaves its rows unread: by position they could be read wrongly.
      if (unknown.length > 0) {
        problem(`unknown column ${unknown.map(shown).join(', ')}; expected sku,quantity[,unitPrice]`);
        return problems;
      }
      if (!named.includes('quantity')) {
        problem('the header has no quantity column');
        return problems;
      }
      columns = named as typeof columns;
      continue;
    }
    if (cells.length < 2 || cells.length > columns.length) {
      problem(`has ${cells.length} column${cells.length === 1 ? '' : 's'}; expected sku,quantity[,unitPrice]`);
      continue;
    }
    const value = (column: 'sku' | 'quantity' | 'unitPrice') => {
      const i = columns.indexOf(column);
      return i < 0 ? undefined : cells[i];
    };
    const read = readItem(value('sku') ?? '', value('quantity') ?? '', value('unitPrice'));
    if (Array.isArray(read)) for (const message of read) problem(message);
    else {
      sources[`lines.${draft.lines.length}`] = { where, rank: rankBase + number };
      draft.lines.push(read);
    }
  }
  return problems;
}

/** A file name as shown to its sender; unnamed attachments by their position. */
function attachmentName(attachment: EmailAttachment, position: number): string {
  const name = [...(attachment.filename ?? '')]
    .filter((c) => !hasControlCharacters(c))
    .join('')
    .trim();
  return name === '' ? `attachment ${position}` : name.slice(0, 80);
}

/** Ranks: the body first, then each CSV attachment in order (room for a million lines each). */
const CSV_RANK = 1_000_000;

/**
 * Reads an order e-mail: the entry for `customerId` and where each of its parts came from, or every
 * problem, each named by its line (body) or file and line (CSV), in reading order.
 */
export function parseEmailOrder(message: {
  customerId: string;
  text?: string;
  attachments: EmailAttachment[];
}): EmailOrderParse {
  const draft: Draft = { lines: [] };
  const sources: EntrySources = {};
  const problems: Located[] = [];
  if (message.text !== undefined) problems.push(...readBody(message.text, draft, sources));
  message.attachments.filter(isOrderCsv).forEach((attachment, i) => {
    const name = attachmentName(attachment, i + 1);
    problems.push(...readCsv(name, attachment.content, CSV_RANK * (i + 1), draft, sources));
  });

  const unreadable = problems.length > 0;
  if (draft.lines.length === 0 && !unreadable) {
    return {
      ok: false,
      problems: [
        {
          message:
            message.text === undefined
              ? 'the e-mail has no plain-text part and no CSV attachment: send the order as plain text or attach a CSV file'
              : 'the e-mail has no order lines: write them as "SKU x QUANTITY" or attach a CSV file (sku,quantity[,unitPrice])',
        },
      ],
    };
  }
  const entry: OrderEntry = {
    customerId: message.customerId,
    ...(draft.externalReference !== undefined ? { externalReference: draft.externalReference } : {}),
    lines: draft.lines,
    ...(draft.payment ? { payment: draft.payment } : {}),
    ...(draft.fulfilmentPolicy ? { fulfilmentPolicy: draft.fulfilmentPolicy } : {}),
  };
  // The schema's own checks (lengths, limits, control characters), named by line as well. An order
  // whose every item line was unreadable has no lines: that is already said line by line.
  const checked = parseEntry(entry);
  if (!checked.ok) {
    const schemaProblems = checked.problems.filter(
      (p) => !(unreadable && p.path === 'lines' && entry.lines.length === 0),
    );
    problems.push(...rank(schemaProblems, sources));
  }
  if (problems.length > 0 || !checked.ok) return { ok: false, problems: sorted(problems) };
  return { ok: true, entry: checked.entry, sources };
}

const FIELD_LABELS: Record<string, string> = {
  sku: 'SKU',
  quantity: 'quantity',
  unitPrice: 'unit price',
  externalReference: 'Reference',
  payment: 'Payment',
  fulfilmentPolicy: 'Policy',
};
/** A schema message is a predicate ("must be at least 1"): it reads with the field's name before it. */
const PREDICATE = /^(must|is|are|appears|was|has|should|cannot|contains)\b/;

function rank(problems: readonly Problem[], sources: EntrySources): Located[] {
  return problems.map((problem) => {
    const parts = problem.path.split('.');
    const key = parts[0] === 'lines' && parts.length > 1 ? `lines.${parts[1]}` : (parts[0] as string);
    const source = sources[key];
    const field = parts[0] === 'lines' ? parts[2] : parts[0];
    const label = field ? FIELD_LABELS[field] : parts[0] === 'lines' ? 'the order' : undefined;
    const message = PREDICATE.test(problem.message) && label ? `${label} ${problem.message}` : problem.message;
    return source ? { where: source.where, message, rank: source.rank } : { message, rank: -1 };
  });
}

const sorted = (problems: Located[]): EmailProblem[] =>
  [...problems]
    .sort((a, b) => a.rank - b.rank)
    .map(({ where, message }) => (where === undefined ? { message } : { where, message }));

/** The intake's problems with an entry (unknown product, no price, duplicate SKU…), named by line. */
export function locateProblems(problems: readonly Problem[], sources: EntrySources): EmailProblem[] {
  return sorted(rank(problems, sources));
}
