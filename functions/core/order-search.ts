import { createHash } from 'node:crypto';
import { InvalidCursor, InvalidSearch } from './errors.ts';
import { type OrderChannel, OrderId, type OrderStatus } from './schemas.ts';

/**
 * Order search (GET /orders): which index answers a query, the window of `createdAt` it covers, how it
 * steps from page to page, and the opaque cursor that continues it. Pure; the orders repository runs
 * the queries (OrdersRepository.search). The indexes (infra/constructs/data.ts) are sparse on
 * `placedAt`, which only order items carry (shipments, backorders and reservations never appear):
 *  - byCustomer (customerId, placedAt): every search with a customer, a customer-bound client's always;
 *  - byStatus (status, placedAt): a status without a customer;
 *  - byDay (placedDay, placedAt): neither (channel only, or no filter): the days are walked from `to`
 *    back to `from`, one partition per UTC day.
 * The filters not in the index key are a FilterExpression. Newest first throughout.
 */
export type SearchIndex = 'byCustomer' | 'byStatus' | 'byDay';

/** Without customer or status, and without `from`: the last 30 days up to `to`. */
export const DEFAULT_WINDOW_DAYS = 30;
/** Without customer or status the window may span at most this many UTC days (each day is one query). */
export const MAX_DAY_WALK_DAYS = 92;
/**
 * What one page may read before it answers with what it found (and a cursor): a rare filter over a
 * long window never runs unbounded. Such a page may hold fewer than `limit` orders, even none.
 */
export const PAGE_BUDGET = { queries: 100, items: 1000 } as const;

export interface SearchFilters {
  customerId?: string;
  status?: OrderStatus;
  channel?: OrderChannel;
}

/** Inclusive bounds on placedAt, as stored (UTC, milliseconds); `from: null` is no lower bound. */
export interface SearchWindow {
  from: string | null;
  to: string;
}

/** The sort key and item key of an indexed order: where a query resumes (after it, going back in time). */
export interface SearchKey {
  placedAt: string;
  orderId: string;
}

/** Where a page starts: a day partition (byDay only) and the order it continues after (none: the newest). */
export interface SearchPosition {
  day?: string;
  after?: SearchKey;
}

export interface SearchPlan {
  index: SearchIndex;
  filters: SearchFilters;
  window: SearchWindow;
  start: SearchPosition;
  /** The filters and explicit bounds the search was asked with: its cursors work for it alone. */
  fingerprint: string;
}

export interface SearchRequest extends SearchFilters {
  from?: string;
  to?: string;
  cursor?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** The most selective index the filters allow: a customer's orders are few, a status's many, a day's all. */
export function indexFor(filters: SearchFilters): SearchIndex {
  if (filters.customerId !== undefined) return 'byCustomer';
  if (filters.status !== undefined) return 'byStatus';
  return 'byDay';
}

/** `from` as a placedAt bound: a date is the start of that UTC day. */
export function lowerBound(value: string): string {
  return DATE_ONLY.test(value) ? `${value}T00:00:00.000Z` : instant(value, 'up');
}

/** `to` as a placedAt bound: a date is the end of that UTC day (inclusive). */
export function upperBound(value: string): string {
  return DATE_ONLY.test(value) ? `${value}T23:59:59.999Z` : instant(value, 'down');
}

/** An instant as placedAt is stored (toISOString); digits past the millisecond round into the window. */
function instant(value: string, round: 'up' | 'down'): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`Not an instant: ${value}`);
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? '';
  if (round === 'up' && /[1-9]/.test(fraction.slice(3))) date.setTime(date.getTime() + 1);
  return date.toISOString();
}

/** The UTC day partition of an instant. */
export const dayOf = (placedAt: string): string => placedAt.slice(0, 10);

export function previousDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) - DAY_MS).toISOString().slice(0, 10);
}

/** How many UTC day partitions a window touches. */
export function daysSpanned(window: { from: string; to: string }): number {
  return (
    Math.round(
      (Date.parse(`${dayOf(window.to)}T00:00:00.000Z`) - Date.parse(`${dayOf(window.from)}T00:00:00.000Z`)) / DAY_MS,
    ) + 1
  );
}

/**
 * The window of a new search: `to` defaults to now; `from` to nothing with a customer or a status (all
 * their orders), else to 30 days before `to`, and then the window may span at most 92 days.
 */
export function windowFor(
  index: SearchIndex,
  explicit: { from: string | null; to: string | null },
  now: Date,
): SearchWindow {
  const to = explicit.to ?? now.toISOString();
  const from =
    explicit.from ?? (index === 'byDay' ? new Date(Date.parse(to) - DEFAULT_WINDOW_DAYS * DAY_MS).toISOString() : null);
  if (from !== null && from > to)
    throw new InvalidSearch([
      { path: 'from', message: `must not be after to (${explicit.to === null ? `now, ${to}` : to})` },
    ]);
  if (index === 'byDay' && from !== null && daysSpanned({ from, to }) > MAX_DAY_WALK_DAYS)
    throw new InvalidSearch([
      {
        path: 'from',
        message: `spans more than ${MAX_DAY_WALK_DAYS} days up to to (${to}); without customerId or status the window may span at most ${MAX_DAY_WALK_DAYS} days`,
      },
    ]);
  return { from, to };
}

function fingerprintOf(filters: SearchFilters, explicit: { from: string | null; to: string | null }): string {
  const asked = [
    filters.customerId ?? null,
    filters.status ?? null,
    filters.channel ?? null,
    explicit.from,
    explicit.to,
  ];
  return createHash('sha256').update(JSON.stringify(asked)).digest('base64url').slice(0, 16);
}

/**
 * What a page of this request reads: the index, the window and where to start — the newest order of
 * the window, or where the cursor left off (then the window is the cursor's, so a default `to` of "now"
 * stays where the first page put it and no order appears twice).
 */
export function planOrderSearch(request: SearchRequest, now: Date): SearchPlan {
  const filters: SearchFilters = {
    ...(request.customerId !== undefined ? { customerId: request.customerId } : {}),
    ...(request.status !== undefined ? { status: request.status } : {}),
    ...(request.channel !== undefined ? { channel: request.channel } : {}),
  };
  const index = indexFor(filters);
  const explicit = {
    from: request.from !== undefined ? lowerBound(request.from) : null,
    to: request.to !== undefined ? upperBound(request.to) : null,
  };
  const fingerprint = fingerprintOf(filters, explicit);
  if (request.cursor !== undefined) {
    const { window, start } = decodeCursor(request.cursor, { index, fingerprint, explicit });
    return { index, filters, window, start, fingerprint };
  }
  const window = windowFor(index, explicit, now);
  return { index, filters, window, start: index === 'byDay' ? { day: dayOf(window.to) } : {}, fingerprint };
}

/** The day partition walked after `day`, or none once the walk passed `from`. */
export function dayBefore(plan: Pick<SearchPlan, 'window'>, day: string): string | undefined {
  const previous = previousDay(day);
  return plan.window.from !== null && previous >= dayOf(plan.window.from) ? previous : undefined;
}

/**
 * One query's result applied to a page: of the matching `keys` (newest first) the page takes at most
 * `room`; the search goes on after the last one taken, after the query's last evaluated key, on the
 * previous day, or — with nothing left — not at all.
 */
export function advance(
  plan: Pick<SearchPlan, 'index' | 'window'>,
  position: SearchPosition,
  page: { keys: SearchKey[]; lastEvaluated?: SearchKey },
  room: number,
): { take: number; next?: SearchPosition } {
  const day = position.day !== undefined ? { day: position.day } : {};
  const cut = page.keys[room - 1];
  if (page.keys.length > room && cut) return { take: room, next: { ...day, after: cut } };
  if (page.lastEvaluated) return { take: page.keys.length, next: { ...day, after: page.lastEvaluated } };
  const previous = plan.index === 'byDay' && position.day !== undefined ? dayBefore(plan, position.day) : undefined;
  return { take: page.keys.length, ...(previous ? { next: { day: previous } } : {}) };
}

/*
 * The cursor: base64url of `{ v, q, f, t, d?, a?, c }` — version, the search's fingerprint, the window,
 * the day and the key to continue after, and a checksum. The checksum catches an edited cursor; it is
 * not a secret, so every field is validated against the request as well: a forged cursor can only ask
 * what the caller could ask anyway (the customer binding is the request's, never the cursor's).
 */
interface CursorBody {
  v: 1;
  q: string;
  f: string | null;
  t: string;
  d?: string;
  a?: [string, string];
}
const CURSOR_FIELDS = ['v', 'q', 'f', 't', 'd', 'a', 'c'];
const checksum = (body: CursorBody) =>
  createHash('sha256')
    .update(`order-search\n${JSON.stringify(body)}`)
    .digest('base64url')
    .slice(0, 12);

export function encodeCursor(plan: Pick<SearchPlan, 'fingerprint' | 'window'>, position: SearchPosition): string {
  const body: CursorBody = {
    v: 1,
    q: plan.fingerprint,
    f: plan.window.from,
    t: plan.window.to,
    ...(position.day !== undefined ? { d: position.day } : {}),
    ...(position.after ? { a: [position.after.placedAt, position.after.orderId] as [string, string] } : {}),
  };
  return Buffer.from(JSON.stringify({ ...body, c: checksum(body) })).toString('base64url');
}

const ALTERED = 'has been altered or is not a cursor this API gave out';
const isInstant = (value: unknown): value is string =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
const isDay = (value: unknown): value is string =>
  typeof value === 'string' && DATE_ONLY.test(value) && isInstant(`${value}T00:00:00.000Z`);

/** Reads a cursor for the search it must belong to; InvalidCursor (naming what is wrong) otherwise. */
export function decodeCursor(
  cursor: string,
  search: { index: SearchIndex; fingerprint: string; explicit: { from: string | null; to: string | null } },
): { window: SearchWindow; start: SearchPosition } {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursor(ALTERED);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidCursor(ALTERED);
  const fields = raw as Record<string, unknown>;
  if (Object.keys(fields).some((key) => !CURSOR_FIELDS.includes(key)) || fields.v !== 1)
    throw new InvalidCursor(ALTERED);
  const { q, f, t, d, a } = fields;
  if (typeof q !== 'string' || !(f === null || isInstant(f)) || !isInstant(t)) throw new InvalidCursor(ALTERED);
  if (!(d === undefined || isDay(d))) throw new InvalidCursor(ALTERED);
  const after =
    a === undefined
      ? undefined
      : Array.isArray(a) && a.length === 2 && isInstant(a[0]) && OrderId.safeParse(a[1]).success
        ? { placedAt: a[0] as string, orderId: a[1] as string }
        : null;
  if (after === null) throw new InvalidCursor(ALTERED);
  const body: CursorBody = {
    v: 1,
    q,
    f,
    t,
    ...(d !== undefined ? { d } : {}),
    ...(after ? { a: [after.placedAt, after.orderId] as [string, string] } : {}),
  };
  if (fields.c !== checksum(body)) throw new InvalidCursor(ALTERED);
  if (q !== search.fingerprint)
    throw new InvalidCursor(
      'belongs to another search (other filters or window): repeat the search without cursor, or with the same filters',
    );
  // The fingerprint covers the explicit bounds; these checks hold a cursor to the rules a new search obeys.
  const window: SearchWindow = { from: f, to: t };
  const { explicit } = search;
  const consistent =
    (explicit.from === null || explicit.from === f) &&
    (explicit.to === null || explicit.to === t) &&
    (f === null || f <= t) &&
    (search.index === 'byDay'
      ? f !== null &&
        daysSpanned({ from: f, to: t }) <= MAX_DAY_WALK_DAYS &&
        d !== undefined &&
        d >= dayOf(f) &&
        d <= dayOf(t)
      : d === undefined && after !== undefined) &&
    (after === undefined ||
      ((f === null || after.placedAt >= f) && after.placedAt <= t && (d === undefined || dayOf(after.placedAt) === d)));
  if (!consistent) throw new InvalidCursor(ALTERED);
  return { window, start: { ...(d !== undefined ? { day: d } : {}), ...(after ? { after } : {}) } };
}
