import type { Problem } from './errors.ts';
import { type Customer, OrderEntry, OrderRequest, type Product } from './schemas.ts';

export type EntryResolution = { ok: true; request: OrderRequest } | { ok: false; problems: Problem[] };

/**
 * Turns an order entry (CRM, e-mail, rep, import) into the OrderRequest every channel captures, filling
 * in what the customer's record says: currency, payment terms, billing address as the ship-to, and each
 * line's list price. Problems the intake can see are named per line, all at once, so an e-mail reply or
 * an import report lists every one; the workflow still validates the order as it does every order.
 */
export function resolveEntry(
  entry: OrderEntry,
  customer: Customer | undefined,
  catalog: ReadonlyMap<string, Product>,
): EntryResolution {
  if (!customer)
    return { ok: false, problems: [{ path: 'customerId', message: `customer ${entry.customerId} does not exist` }] };
  const problems: Problem[] = [];
  const currency = entry.currency ?? customer.currency;
  const method = entry.payment ?? customer.paymentTerms.type;
  if (method === 'card' && !customer.cardOnFile) {
    problems.push({
      path: 'payment',
      message: 'the customer has no card on file; bill on account or order by web checkout',
    });
  }
  const lines = entry.lines.map((line, index) => {
    const product = catalog.get(line.sku);
    const listPrice = product?.prices[currency];
    if (!product?.active) {
      problems.push({ path: `lines.${index}.sku`, message: `product ${line.sku} is not sold` });
    } else if (listPrice === undefined) {
      problems.push({ path: `lines.${index}.sku`, message: `product ${line.sku} has no price in ${currency}` });
    }
    return { sku: line.sku, quantity: line.quantity, unitPrice: line.unitPrice ?? listPrice ?? 0 };
  });
  const parsed = OrderRequest.safeParse({
    customerId: customer.customerId,
    currency,
    lines,
    shippingAddress: entry.shippingAddress ?? customer.billingAddress,
    payment: method === 'card' ? { method: 'card', token: customer.cardOnFile ?? 'none' } : { method: 'on_account' },
    ...(entry.fulfilmentPolicy ? { fulfilmentPolicy: entry.fulfilmentPolicy } : {}),
  });
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.') || '(order)',
        message: issue.message,
      })),
    );
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, request: parsed.data };
}

/** Parses an entry as a channel received it: the problems, named by field, or the entry. */
export function parseEntry(value: unknown): { ok: true; entry: OrderEntry } | { ok: false; problems: Problem[] } {
  const parsed = OrderEntry.safeParse(value);
  if (parsed.success) return { ok: true, entry: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(order)',
      message: issue.message,
    })),
  };
}
