import * as z from 'zod/mini';
import { InvalidCursor } from '../core/errors.ts';
import { lazySchema } from '../core/lazy-schema.ts';
import { InvoiceStatus } from '../core/schemas.ts';
import { invoiceLedger } from '../lib/deps.ts';
import { HttpError, httpRoute, json, parseOr400 } from '../lib/http.ts';
import { invoiceView } from '../lib/invoice-views.ts';

const ledger = invoiceLedger(undefined, { balances: false });

export const ListInvoicesQuery = /* @__PURE__ */ lazySchema(() =>
  z.object({
    status: InvoiceStatus,
    limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 50),
    cursor: z.optional(z.string().check(z.maxLength(2000))),
  }),
);

/** GET /invoices?status=open|paid|overdue|credited[&limit][&cursor] (finance): a page from the status index. */
export const handler = httpRoute(async (event) => {
  const query = parseOr400(ListInvoicesQuery, event.queryStringParameters ?? {}, 'query');
  try {
    const page = await ledger.list(query.status, query.limit, query.cursor);
    return json(200, { invoices: page.invoices.map(invoiceView), cursor: page.cursor ?? null });
  } catch (error) {
    if (error instanceof InvalidCursor)
      throw new HttpError(400, 'ValidationError', error.message, [{ path: 'cursor', message: error.message }]);
    throw error;
  }
});
