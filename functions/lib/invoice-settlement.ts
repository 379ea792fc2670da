import type { CreditLedger, CustomersRepository } from '../adapters/customers-repository.ts';
import type { Settlement, TransactItem } from '../adapters/invoices-repository.ts';

/**
 * What commits together with a batch of invoices: an on-account invoice adds to what its customer
 * owes and turns its part of the order's credit hold into that debt (the credit stays in use), so a
 * failure after invoicing gives back only what was not invoiced. One write per customer and one per
 * order: a batch may hold several shipments of one order (or orders of one customer), and a
 * transaction may write an item only once.
 */
export function invoiceSettlement(
  credit: Pick<CreditLedger, 'holdInvoiced'>,
  customers: Pick<CustomersRepository, 'openBalanceIncrease'>,
): Settlement {
  return (batch) => {
    const owed = new Map<string, number>();
    const invoiced = new Map<string, number>();
    for (const invoice of batch) {
      if (invoice.paymentMethod !== 'on_account') continue;
      owed.set(invoice.customerId, (owed.get(invoice.customerId) ?? 0) + invoice.totals.total);
      invoiced.set(invoice.orderId, (invoiced.get(invoice.orderId) ?? 0) + invoice.totals.total);
    }
    return [
      ...[...invoiced].map(([orderId, amount]): TransactItem => credit.holdInvoiced(orderId, amount)),
      ...[...owed].map(([customerId, amount]): TransactItem => customers.openBalanceIncrease(customerId, amount)),
    ];
  };
}
