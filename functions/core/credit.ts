import { CreditLimitExceeded } from './errors.ts';
import type { Customer } from './schemas.ts';

/** An on-account order must fit in what is left of the customer's credit limit. */
export function checkCredit(customer: Customer, openBalance: number, orderTotal: number): void {
  const remaining = customer.creditLimit - openBalance;
  if (orderTotal > remaining) {
    throw new CreditLimitExceeded(
      `Order total ${orderTotal} exceeds the remaining credit ${Math.max(remaining, 0)} of customer ${customer.customerId}`,
    );
  }
}
