import { InvalidOrder, type Problem } from './errors.ts';
import type { Customer, OrderRequest, PricedLine, Product, Totals } from './schemas.ts';
import { taxOn, vatRateFor } from './tax.ts';

export interface PricedOrder {
  lines: PricedLine[];
  totals: Totals;
}

/**
 * Checks an order request against the customer and the catalog and prices it server-side.
 * The client's unit prices are only a check that the customer saw the current price: the
 * catalog price is what is charged. All problems are reported at once.
 */
export function priceOrder(
  request: OrderRequest,
  customer: Customer | undefined,
  catalog: ReadonlyMap<string, Product>,
): PricedOrder {
  const problems: Problem[] = [];
  if (!customer) {
    problems.push({ path: 'customerId', message: `customer ${request.customerId} does not exist` });
  } else if (customer.status !== 'ACTIVE') {
    problems.push({
      path: 'customerId',
      message: `customer ${request.customerId} is ${customer.status.toLowerCase()}`,
    });
  } else if (request.payment.method === 'on_account' && customer.paymentTerms === 'PREPAID') {
    problems.push({ path: 'payment.method', message: 'customer has no account terms; pay by card' });
  }

  const rate = vatRateFor(request.shippingAddress.country);
  if (rate === undefined) {
    problems.push({
      path: 'shippingAddress.country',
      message: `we do not ship to ${request.shippingAddress.country}`,
    });
  }

  const lines: PricedLine[] = [];
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
    if (product.currency !== request.currency) {
      problems.push({ path: 'currency', message: `product ${line.sku} is priced in ${product.currency}` });
      return;
    }
    if (product.unitPrice !== line.unitPrice) {
      problems.push({
        path: `${path}.unitPrice`,
        message: `price of ${line.sku} is ${product.unitPrice}, not ${line.unitPrice}`,
      });
      return;
    }
    const lineSubtotal = product.unitPrice * line.quantity;
    const taxRateBasisPoints = rate ?? 0;
    lines.push({
      sku: line.sku,
      name: product.name,
      quantity: line.quantity,
      unitPrice: product.unitPrice,
      taxRateBasisPoints,
      lineSubtotal,
      lineTax: taxOn(lineSubtotal, taxRateBasisPoints),
    });
  });

  if (problems.length > 0) throw new InvalidOrder(dedupe(problems));
  return { lines, totals: totalsOf(lines) };
}

export function totalsOf(lines: readonly PricedLine[]): Totals {
  const subtotal = lines.reduce((sum, line) => sum + line.lineSubtotal, 0);
  const tax = lines.reduce((sum, line) => sum + line.lineTax, 0);
  return { subtotal, tax, total: subtotal + tax };
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
