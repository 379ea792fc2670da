import { InvalidCursor, InvalidSearch } from '../core/errors.ts';
import { encodeCursor, planOrderSearch } from '../core/order-search.ts';
import { OrderSearchQuery } from '../core/schemas.ts';
import { actsFor, callerOf } from '../lib/caller.ts';
import { clock, ordersRepository } from '../lib/deps.ts';
import { HttpError, httpRoute, type Issue, json, parseOr400 } from '../lib/http.ts';
import { orderSummary } from '../lib/order-views.ts';

const orders = ordersRepository();

const invalid = (issues: Issue[]) =>
  new HttpError(
    400,
    'ValidationError',
    `The query is invalid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
    issues,
  );

/**
 * GET /orders?customerId&status&channel&from&to&limit&cursor — order search for reps, ops and buyer
 * clients, newest first, from the search indexes (core/order-search.ts). A customer-bound client
 * searches its own customer's orders only: another customerId is refused by name.
 */
export const handler = httpRoute(async (event) => {
  const query = parseOr400(OrderSearchQuery, event.queryStringParameters ?? {}, 'query');
  const caller = callerOf(event);
  if (query.customerId !== undefined && !actsFor(caller, query.customerId))
    throw new HttpError(403, 'Forbidden', "This client may search its own customer's orders only", [
      { path: 'customerId', message: 'must be your own customer (or left out)' },
    ]);
  try {
    const plan = planOrderSearch(
      {
        customerId: caller.customerId ?? query.customerId,
        status: query.status,
        channel: query.channel,
        from: query.from,
        to: query.to,
        cursor: query.cursor,
      },
      clock(),
    );
    const page = await orders.search(plan, query.limit);
    return json(200, {
      orders: page.orders.map(orderSummary),
      ...(page.next ? { nextCursor: encodeCursor(plan, page.next) } : {}),
    });
  } catch (error) {
    if (error instanceof InvalidCursor) throw invalid([{ path: 'cursor', message: error.message }]);
    if (error instanceof InvalidSearch) throw invalid(error.problems);
    throw error;
  }
});
