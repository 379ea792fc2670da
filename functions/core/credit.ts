import { CreditLimitExceeded } from './errors.ts';
import type { Customer } from './schemas.ts';

/**
 * An on-account order must fit in what is left of the customer's credit: the limit minus the
 * credit in use (unpaid invoices and on-account orders in progress). Returns the most the credit
 * in use may be when the order's hold is added — the condition the hold is written under, so two
 * orders racing for the last of the credit cannot both pass.
 */
export function creditCeiling(
  customer: Pick<Customer, 'customerId' | 'creditLimit' | 'creditUsed'>,
  orderTotal: number,
): number {
  const remaining = customer.creditLimit - customer.creditUsed;
  if (orderTotal > remaining) throw creditLimitExceeded(customer, orderTotal);
  return customer.creditLimit - orderTotal;
}

export function creditLimitExceeded(
  customer: Pick<Customer, 'customerId' | 'creditLimit' | 'creditUsed'>,
  orderTotal: number,
) {
  const remaining = Math.max(customer.creditLimit - customer.creditUsed, 0);
  return new CreditLimitExceeded(
    `Order total ${orderTotal} exceeds the remaining credit ${remaining} of customer ${customer.customerId}`,
  );
}

/** What is left of the customer's credit (negative when over the limit). */
export const remainingCredit = (customer: Pick<Customer, 'creditLimit' | 'creditUsed'>): number =>
  customer.creditLimit - customer.creditUsed;

/**
 * The ceiling of an approved order's hold. The rule: an approver's approval lifts the credit limit
 * for this order alone — its hold is taken whatever credit is in use, so creditUsed may go above
 * the limit by this order, and later orders see no credit left. The hold is still one guarded
 * write (taken once, never after the order's credit was released).
 */
export const APPROVED_CREDIT_CEILING = Number.MAX_SAFE_INTEGER;
