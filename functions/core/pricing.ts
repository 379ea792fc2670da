import { CustomerBlocked, InvalidOrder, type MismatchedLine, PriceMismatch, type Problem } from './errors.ts';
import type { Customer, OrderRequest, PricedLine, Product, TaxByRate, TaxTreatment, Totals } from './schemas.ts';
import { basisPointsOf, taxOn, taxTreatmentFor } from './tax.ts';

export interface PricedOrder {
  lines: PricedLine[];
  totals: Totals;
  taxTreatment: TaxTreatment;
}

/**
 * Checks an order request against the customer and the price list and prices it server-side.
 *
 * - A blocked customer: CustomerBlocked, before anything else.
 * - Unknown customer or product, a product not sold or not priced in the order's currency, wrong
 *   payment terms, no VAT treatment for the destination: InvalidOrder, all problems at once.
 * - Otherwise a client unit price that is not the list price: PriceMismatch naming every such line.
 *   The client's unit price is required and only checked (it shows the customer saw the price); the
 *   list price is what is charged, less the customer's discount.
 *
 * Rounding (all integer minor units): a line's discount is `unitPrice × quantity × discount`,
 * rounded half up per line, and its net (`lineSubtotal`) the rest. Tax is computed per rate on the
 * SUM of the nets at that rate, rounded half up once per rate (as EU invoices state VAT per rate),
 * so the total never carries one rounding per line; `lineTax` is informative. total = subtotal + tax.
 */
export function priceOrder(
  request: OrderRequest,
  customer: Customer | undefined,
  catalog: ReadonlyMap<string, Product>,
): PricedOrder {
  if (customer?.status === 'blocked') throw new CustomerBlocked(customer.customerId);
  const problems: Problem[] = [];
  if (!customer) {
    problems.push({ path: 'customerId', message: `customer ${request.customerId} does not exist` });
  } else if (request.payment.method === 'on_account') {
    if (customer.paymentTerms.type !== 'on_account') {
      problems.push({ path: 'payment.method', message: 'customer has no account terms; pay by card' });
    } else if (customer.currency !== request.currency) {
      // Credit is kept in the customer's currency: an order on account is in that currency too.
      problems.push({ path: 'currency', message: `on-account orders of this customer are in ${customer.currency}` });
    }
  }

  const destination = request.shippingAddress.country;
  const decision = customer ? taxTreatmentFor(destination, customer.taxProfile) : undefined;
  if (decision && !decision.ok) {
    problems.push({ path: 'shippingAddress.country', message: `we do not ship to ${destination}: ${decision.reason}` });
  }

  const discountBasisPoints = customer?.discountBasisPoints ?? 0;
  const lines: PricedLine[] = [];
  const mismatches: MismatchedLine[] = [];
  request.lines.forEach((line, index) => {
    const product = catalog.get(line.sku);
    const path = `lines[${index}]`;
    if (!product) {
      problems.push({ path: `${path}.sku`, message: `product ${line.sku} does not exist` });
      return;
    }
    if (!product.active) {
      problems.push({ path: `${path}.sku`, message: `product ${line.sku} is no longer sold` });
      return;
    }
    const listPrice = product.prices[request.currency];
    if (listPrice === undefined) {
      problems.push({ path: `${path}.sku`, message: `product ${line.sku} has no price in ${request.currency}` });
      return;
    }
    if (listPrice !== line.unitPrice) {
      mismatches.push({ index, sku: line.sku, listPrice, givenPrice: line.unitPrice });
      return;
    }
    const gross = listPrice * line.quantity;
    const lineDiscount = basisPointsOf(gross, discountBasisPoints);
    const lineSubtotal = gross - lineDiscount;
    const taxRateBasisPoints = decision?.ok ? decision.rateFor(product.taxCategory) : 0;
    lines.push({
      sku: line.sku,
      name: product.name,
      quantity: line.quantity,
      unitPrice: listPrice,
      taxCategory: product.taxCategory,
      taxRateBasisPoints,
      discountBasisPoints,
      lineDiscount,
      lineSubtotal,
      lineTax: taxOn(lineSubtotal, taxRateBasisPoints),
    });
  });

  if (problems.length > 0) throw new InvalidOrder(dedupe(problems));
  if (mismatches.length > 0) throw new PriceMismatch(mismatches);
  // Both set here: no problems means the customer exists and the destination has a treatment.
  const taxTreatment = decision?.ok ? decision.treatment : 'domestic';
  return { lines, totals: totalsOf(lines), taxTreatment };
}

/** Totals of priced lines: tax per rate on the sum of the nets at that rate (see priceOrder). */
export function totalsOf(lines: readonly PricedLine[]): Totals {
  const byRate = new Map<number, number>();
  for (const line of lines) {
    byRate.set(line.taxRateBasisPoints, (byRate.get(line.taxRateBasisPoints) ?? 0) + line.lineSubtotal);
  }
  const taxByRate: TaxByRate[] = [...byRate]
    .sort(([a], [b]) => b - a)
    .map(([rateBasisPoints, net]) => ({ rateBasisPoints, net, tax: taxOn(net, rateBasisPoints) }));
  const subtotal = taxByRate.reduce((sum, rate) => sum + rate.net, 0);
  const tax = taxByRate.reduce((sum, rate) => sum + rate.tax, 0);
  const discount = lines.reduce((sum, line) => sum + line.lineDiscount, 0);
  return { subtotal, discount, tax, total: subtotal + tax, taxByRate };
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
