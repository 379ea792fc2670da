import { describe, expect, it } from 'vitest';
import { InvalidCursor, InvalidSearch } from '../../functions/core/errors.ts';
import {
  advance,
  DEFAULT_WINDOW_DAYS,
  daysSpanned,
  decodeCursor,
  encodeCursor,
  indexFor,
  lowerBound,
  MAX_DAY_WALK_DAYS,
  planOrderSearch,
  previousDay,
  type SearchPlan,
  upperBound,
  windowFor,
} from '../../functions/core/order-search.ts';
import { OrderSearchQuery } from '../../functions/core/schemas.ts';

const NOW = new Date('2026-03-15T12:00:00.000Z');
const ORDER_A = 'ord-0000000000000000000000000a';
const ORDER_B = 'ord-0000000000000000000000000b';

/** The problems of a refused search, or of a refused cursor as `cursor: <message>`. */
function refusal(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidSearch) return error.problems.map((p) => `${p.path}: ${p.message}`);
    if (error instanceof InvalidCursor) return [`cursor: ${error.message}`];
    throw error;
  }
  throw new Error('not refused');
}

/** A cursor as the base64url JSON it is, for editing. */
const open = (cursor: string) => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
const seal = (fields: unknown) => Buffer.from(JSON.stringify(fields)).toString('base64url');

describe('order search: index choice', () => {
  it('takes the most selective index the filters allow: customer, then status, else the day walk', () => {
    expect(indexFor({ customerId: 'CUST-1', status: 'SHIPPED', channel: 'crm' })).toBe('byCustomer');
    expect(indexFor({ customerId: 'CUST-1' })).toBe('byCustomer');
    expect(indexFor({ status: 'SHIPPED', channel: 'crm' })).toBe('byStatus');
    expect(indexFor({ channel: 'crm' })).toBe('byDay');
    expect(indexFor({})).toBe('byDay');
  });
});

describe('order search: window', () => {
  it('reads a date as a whole UTC day and an instant with its offset, to the millisecond placedAt is stored in', () => {
    expect(lowerBound('2026-03-01')).toBe('2026-03-01T00:00:00.000Z');
    expect(upperBound('2026-03-01')).toBe('2026-03-01T23:59:59.999Z');
    expect(lowerBound('2026-03-01T10:00:00+02:00')).toBe('2026-03-01T08:00:00.000Z');
    expect(upperBound('2026-03-01T10:00:00Z')).toBe('2026-03-01T10:00:00.000Z');
    // Past the millisecond the bound rounds into the window: nothing outside it is included.
    expect(lowerBound('2026-03-01T10:00:00.1231Z')).toBe('2026-03-01T10:00:00.124Z');
    expect(upperBound('2026-03-01T10:00:00.1239Z')).toBe('2026-03-01T10:00:00.123Z');
    expect(lowerBound('2026-03-01T10:00:00.1230Z')).toBe('2026-03-01T10:00:00.123Z');
  });

  it('defaults to the last 30 days without customer or status, and to everything up to now with either', () => {
    expect(windowFor('byDay', { from: null, to: null }, NOW)).toEqual({
      from: new Date(NOW.getTime() - DEFAULT_WINDOW_DAYS * 86_400_000).toISOString(),
      to: NOW.toISOString(),
    });
    expect(windowFor('byDay', { from: null, to: '2026-01-31T23:59:59.999Z' }, NOW)).toEqual({
      from: '2026-01-01T23:59:59.999Z',
      to: '2026-01-31T23:59:59.999Z',
    });
    expect(windowFor('byCustomer', { from: null, to: null }, NOW)).toEqual({ from: null, to: NOW.toISOString() });
    expect(windowFor('byStatus', { from: '2020-01-01T00:00:00.000Z', to: null }, NOW)).toEqual({
      from: '2020-01-01T00:00:00.000Z',
      to: NOW.toISOString(),
    });
  });

  it('refuses a reversed window, naming from', () => {
    expect(
      refusal(() => windowFor('byCustomer', { from: '2026-03-02T00:00:00.000Z', to: '2026-03-01T23:59:59.999Z' }, NOW)),
    ).toEqual(['from: must not be after to (2026-03-01T23:59:59.999Z)']);
    expect(refusal(() => windowFor('byStatus', { from: '2026-04-01T00:00:00.000Z', to: null }, NOW))).toEqual([
      'from: must not be after to (now, 2026-03-15T12:00:00.000Z)',
    ]);
  });

  it(`walks at most ${MAX_DAY_WALK_DAYS} days without customer or status; with either the window is unlimited`, () => {
    const quarter = { from: '2026-01-01T00:00:00.000Z', to: '2026-04-02T23:59:59.999Z' };
    expect(daysSpanned(quarter)).toBe(92);
    expect(windowFor('byDay', quarter, NOW)).toEqual(quarter);
    const longer = { ...quarter, to: '2026-04-03T00:00:00.000Z' };
    expect(refusal(() => windowFor('byDay', longer, NOW))).toEqual([
      `from: spans more than 92 days up to to (2026-04-03T00:00:00.000Z); without customerId or status the window may span at most 92 days`,
    ]);
    expect(windowFor('byStatus', longer, NOW)).toEqual(longer);
    expect(windowFor('byCustomer', { from: '2020-01-01T00:00:00.000Z', to: null }, NOW).from).toBe(
      '2020-01-01T00:00:00.000Z',
    );
  });

  it('counts UTC days across months and leap days', () => {
    expect(previousDay('2026-03-01')).toBe('2026-02-28');
    expect(previousDay('2024-03-01')).toBe('2024-02-29');
    expect(previousDay('2026-01-01')).toBe('2025-12-31');
    expect(daysSpanned({ from: '2026-03-01T23:59:59.999Z', to: '2026-03-02T00:00:00.000Z' })).toBe(2);
    expect(daysSpanned({ from: '2026-03-01T00:00:00.000Z', to: '2026-03-01T23:00:00.000Z' })).toBe(1);
  });

  it('starts a new search at the newest order of the window: the day of `to` when walking days', () => {
    const walk = planOrderSearch({ channel: 'crm', to: '2026-03-10' }, NOW);
    expect(walk).toMatchObject({
      index: 'byDay',
      filters: { channel: 'crm' },
      window: { from: '2026-02-08T23:59:59.999Z', to: '2026-03-10T23:59:59.999Z' },
      start: { day: '2026-03-10' },
    });
    expect(planOrderSearch({ customerId: 'CUST-1', status: 'SHIPPED' }, NOW)).toMatchObject({
      index: 'byCustomer',
      filters: { customerId: 'CUST-1', status: 'SHIPPED' },
      window: { from: null, to: NOW.toISOString() },
      start: {},
    });
  });
});

describe('order search: query parameters', () => {
  const issues = (query: Record<string, string>) =>
    OrderSearchQuery.safeParse(query).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

  it('takes the filters, a page size of 20 by default and at most 100', () => {
    expect(OrderSearchQuery.parse({})).toEqual({ limit: 20 });
    expect(
      OrderSearchQuery.parse({
        customerId: 'CUST-1002',
        status: 'SHIPPED',
        channel: 'email',
        from: '2026-03-01',
        limit: '100',
      }),
    ).toEqual({ customerId: 'CUST-1002', status: 'SHIPPED', channel: 'email', from: '2026-03-01', limit: 100 });
  });

  it('names each wrong parameter, unknown ones included', () => {
    expect(issues({ limit: '0' })).toEqual(['limit: must be at least 1']);
    expect(issues({ limit: '101' })).toEqual(['limit: must be at most 100']);
    expect(issues({ limit: 'ten' })).toEqual(['limit: must be a whole number from 1 to 100']);
    expect(issues({ status: 'shipped' })?.[0]).toMatch(/^status: /);
    expect(issues({ channel: 'fax' })?.[0]).toMatch(/^channel: /);
    expect(issues({ from: '2026-02-30' })?.[0]).toMatch(/^from: must be an ISO date/);
    expect(issues({ to: '2026-03-01T10:00:00' })?.[0]).toMatch(/^to: must be an ISO date/);
    expect(issues({ customerId: 'CUST 1' })?.[0]).toMatch(/^customerId: /);
    expect(issues({ cursor: 'not a cursor!' })).toEqual(['cursor: is not a cursor this API gave out']);
    expect(issues({ customer: 'CUST-1002' })).toEqual([
      'customer: is not a search parameter (customerId, status, channel, from, to, limit, cursor)',
    ]);
  });
});

describe('order search: paging', () => {
  const day = (from: string, to: string): Pick<SearchPlan, 'index' | 'window'> => ({
    index: 'byDay',
    window: { from, to },
  });
  const key = (placedAt: string, orderId = ORDER_A) => ({ placedAt, orderId });
  const walk = day('2026-03-09T08:00:00.000Z', '2026-03-10T23:59:59.999Z');

  it('cuts a page at the room left and goes on after the last order taken', () => {
    const keys = [
      key('2026-03-10T10:00:00.000Z', ORDER_B),
      key('2026-03-10T09:00:00.000Z'),
      key('2026-03-10T08:00:00.000Z'),
    ];
    expect(advance(walk, { day: '2026-03-10' }, { keys }, 2)).toEqual({
      take: 2,
      next: { day: '2026-03-10', after: keys[1] },
    });
  });

  it("goes on after the query's last evaluated key while the partition has more", () => {
    const last = key('2026-03-10T07:00:00.000Z');
    expect(advance(walk, { day: '2026-03-10' }, { keys: [], lastEvaluated: last }, 5)).toEqual({
      take: 0,
      next: { day: '2026-03-10', after: last },
    });
    const status = { index: 'byStatus' as const, window: { from: null, to: NOW.toISOString() } };
    expect(advance(status, {}, { keys: [key('2026-03-10T07:00:00.000Z')], lastEvaluated: last }, 5)).toEqual({
      take: 1,
      next: { after: last },
    });
  });

  it("walks to the previous day when a day is done, and ends after from's day", () => {
    expect(advance(walk, { day: '2026-03-10', after: key('2026-03-10T07:00:00.000Z') }, { keys: [] }, 5)).toEqual({
      take: 0,
      next: { day: '2026-03-09' },
    });
    expect(advance(walk, { day: '2026-03-09' }, { keys: [key('2026-03-09T09:00:00.000Z')] }, 5)).toEqual({ take: 1 });
    const status = { index: 'byCustomer' as const, window: { from: null, to: NOW.toISOString() } };
    expect(advance(status, {}, { keys: [] }, 5)).toEqual({ take: 0 });
  });
});

describe('order search: cursor', () => {
  const first = planOrderSearch({ channel: 'crm' }, NOW);
  const position = { day: '2026-03-14', after: { placedAt: '2026-03-14T09:00:00.000Z', orderId: ORDER_A } };
  const cursor = encodeCursor(first, position);

  it('is opaque base64url and continues the same search where it left off, in the window of its first page', () => {
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const later = new Date(NOW.getTime() + 3_600_000); // a new order meanwhile is after the window: no repeats
    expect(planOrderSearch({ channel: 'crm', cursor }, later)).toEqual({ ...first, start: position });
    const customer = planOrderSearch({ customerId: 'CUST-1', from: '2026-01-01' }, NOW);
    const after = { after: { placedAt: '2026-02-01T00:00:00.000Z', orderId: ORDER_B } };
    expect(
      planOrderSearch({ customerId: 'CUST-1', from: '2026-01-01', cursor: encodeCursor(customer, after) }, NOW),
    ).toEqual({
      ...customer,
      start: after,
    });
  });

  it('refuses a cursor of another search: other filters, another customer, other explicit bounds', () => {
    const another =
      'cursor: belongs to another search (other filters or window): repeat the search without cursor, or with the same filters';
    expect(refusal(() => planOrderSearch({ channel: 'email', cursor }, NOW))).toEqual([another]);
    expect(refusal(() => planOrderSearch({ cursor }, NOW))).toEqual([another]);
    expect(refusal(() => planOrderSearch({ channel: 'crm', to: '2026-03-15', cursor }, NOW))).toEqual([another]);
    const mine = planOrderSearch({ customerId: 'CUST-1002' }, NOW);
    const mineCursor = encodeCursor(mine, { after: { placedAt: '2026-03-01T00:00:00.000Z', orderId: ORDER_A } });
    expect(refusal(() => planOrderSearch({ customerId: 'CUST-1003', cursor: mineCursor }, NOW))).toEqual([another]);
  });

  it('refuses an altered cursor: edited bytes, an edited field, garbage', () => {
    const altered = 'cursor: has been altered or is not a cursor this API gave out';
    const flipped = `${cursor.slice(0, 20)}${cursor[20] === 'A' ? 'B' : 'A'}${cursor.slice(21)}`;
    expect(refusal(() => planOrderSearch({ channel: 'crm', cursor: flipped }, NOW))).toEqual([altered]);
    const edited = { ...open(cursor), d: '2026-03-13' };
    expect(refusal(() => planOrderSearch({ channel: 'crm', cursor: seal(edited) }, NOW))).toEqual([altered]);
    for (const garbage of ['abc', seal([1, 2]), seal({ v: 2 }), seal({ ...open(cursor), extra: 1 })])
      expect(refusal(() => planOrderSearch({ channel: 'crm', cursor: garbage }, NOW))).toEqual([altered]);
  });

  it('refuses a well-sealed cursor that breaks the rules a new search obeys', () => {
    const altered = 'cursor: has been altered or is not a cursor this API gave out';
    const search = { index: 'byDay' as const, fingerprint: first.fingerprint, explicit: { from: null, to: null } };
    // A window longer than a day walk may be, a day outside the window, a key outside its day.
    const tooLong = encodeCursor(
      { ...first, window: { from: '2025-01-01T00:00:00.000Z', to: first.window.to } },
      {
        day: '2026-03-14',
      },
    );
    expect(refusal(() => decodeCursor(tooLong, search))).toEqual([altered]);
    expect(refusal(() => decodeCursor(encodeCursor(first, { day: '2026-01-01' }), search))).toEqual([altered]);
    const wrongDay = { day: '2026-03-13', after: { placedAt: '2026-03-14T09:00:00.000Z', orderId: ORDER_A } };
    expect(refusal(() => decodeCursor(encodeCursor(first, wrongDay), search))).toEqual([altered]);
    expect(refusal(() => decodeCursor(encodeCursor(first, {}), search))).toEqual([altered]);
    // Explicit bounds must be the cursor's.
    const bounded = planOrderSearch({ status: 'SHIPPED', from: '2026-03-01' }, NOW);
    const shifted = encodeCursor(
      { ...bounded, window: { from: '2026-02-01T00:00:00.000Z', to: bounded.window.to } },
      { after: { placedAt: '2026-03-02T00:00:00.000Z', orderId: ORDER_A } },
    );
    expect(refusal(() => planOrderSearch({ status: 'SHIPPED', from: '2026-03-01', cursor: shifted }, NOW))).toEqual([
      altered,
    ]);
  });
});
