import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { creditLimitExceeded } from '../core/credit.ts';
import { CreditLimitExceeded } from '../core/errors.ts';
import { Customer } from '../core/schemas.ts';
import { documents } from './clients/dynamodb.ts';
import type { OrdersRepository } from './orders-repository.ts';

const CRM_COMPANY_INDEX = 'byCrmCompany';
const EMAIL_INDEX = 'byEmail';
const emailKey = (email: string) => email.trim().toLowerCase();

/** A customer as the table stores it: the record, checked, with the key of its e-mail index. */
export const customerItem = (customer: Customer) => {
  const item = Customer.parse(customer);
  return { ...item, emailKey: emailKey(item.email) };
};
function withoutKeys(item: Record<string, unknown>): Customer {
  const { emailKey: _key, ...customer } = item;
  return customer as Customer;
}

/**
 * Customers table, partition `customerId`; indexes byCrmCompany and byEmail for the inbound channels. The one owner of the item's shape: items are written only
 * through `put`, which checks them against the Customer schema, and read back as that shape.
 */
export class CustomersRepository {
  constructor(private readonly tableName: string) {}

  async find(customerId: string): Promise<Customer | undefined> {
    const result = await documents().send(new GetCommand({ TableName: this.tableName, Key: { customerId } }));
    return result.Item ? withoutKeys(result.Item) : undefined;
  }

  /** The customer with this CRM company id (byCrmCompany index), if exactly one has it. */
  findByCrmCompany(crmCompanyId: string): Promise<Customer | undefined> {
    return this.findOneBy(CRM_COMPANY_INDEX, 'crmCompanyId', crmCompanyId);
  }

  /** The customer whose ordering address this is, ignoring case (byEmail index), if exactly one has it. */
  findByEmail(email: string): Promise<Customer | undefined> {
    return this.findOneBy(EMAIL_INDEX, 'emailKey', emailKey(email));
  }

  private async findOneBy(indexName: string, attribute: string, value: string): Promise<Customer | undefined> {
    const page = await documents().send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: '#key = :value',
        ExpressionAttributeNames: { '#key': attribute },
        ExpressionAttributeValues: { ':value': value },
        Limit: 2,
      }),
    );
    // Two customers claiming one address or CRM id is ambiguous: no match rather than a guess.
    if (page.Items?.length !== 1) return undefined;
    return this.find(String(page.Items[0]?.customerId));
  }

  async list(): Promise<Customer[]> {
    const customers: Customer[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents().send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }));
      customers.push(...(page.Items ?? []).map(withoutKeys));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return customers.sort((a, b) => a.customerId.localeCompare(b.customerId));
  }

  async put(customer: Customer): Promise<void> {
    await documents().send(new PutCommand({ TableName: this.tableName, Item: customerItem(customer) }));
  }

  /** An on-account invoice adds to what the customer owes: a write for the invoice's transaction. */
  openBalanceIncrease(customerId: string, amount: number) {
    return {
      Update: {
        TableName: this.tableName,
        Key: { customerId },
        UpdateExpression: 'ADD openBalance :amount',
        ConditionExpression: 'attribute_exists(customerId)',
        ExpressionAttributeValues: { ':amount': amount },
      },
    };
  }
}

/** Tries of a release whose hold keeps changing underneath it (each change is an invoice taking part of it). */
const RELEASE_ATTEMPTS = 5;

/**
 * Credit holds of on-account orders: the order's hold and the customer's `creditUsed` change
 * together, in one transaction, guarded so each hold is taken and given back once. The order side
 * of each transaction is the orders repository's (it alone knows the order item's attributes).
 */
export class CreditLedger {
  constructor(
    private readonly customersTable: string,
    private readonly orders: Pick<
      OrdersRepository,
      'creditHoldItem' | 'creditReleaseItem' | 'markCreditReleased' | 'creditHoldInvoicedItem'
    >,
  ) {}

  /** Holds `amount` of the customer's credit for the order, if credit in use is at most `ceiling`. */
  async hold(orderId: string, customer: Customer, amount: number, ceiling: number): Promise<void> {
    const outcome = await this.move(
      this.orders.creditHoldItem(orderId, amount),
      this.creditUsed(customer.customerId, amount, {
        condition: 'attribute_exists(customerId) AND creditUsed <= :ceiling',
        ceiling,
      }),
    );
    if (outcome === 'order-refused') return; // held by an earlier attempt
    if (outcome === 'customer-refused') {
      const current = await documents().send(
        new GetCommand({
          TableName: this.customersTable,
          Key: { customerId: customer.customerId },
          ConsistentRead: true,
        }),
      );
      throw creditLimitExceeded({ ...customer, ...(current.Item as Partial<Customer>) }, amount);
    }
  }

  /**
   * As `hold`, but says whether the credit fitted (false: CreditLimitExceeded, nothing held). The
   * ceiling is computed inside: computing it already refuses an order beyond the limit.
   */
  async holdIfFits(orderId: string, customer: Customer, amount: number, ceiling: () => number): Promise<boolean> {
    try {
      await this.hold(orderId, customer, amount, ceiling());
      return true;
    } catch (error) {
      if (error instanceof CreditLimitExceeded) return false;
      throw error;
    }
  }

  /**
   * Gives an order's hold back (it was rejected, failed or interrupted); nothing when it holds none.
   * Either way the order is marked released, so a hold arriving late is refused.
   */
  async release(orderId: string, attempt = 1): Promise<boolean> {
    // One write for an order that holds nothing (every card order); refused, it answers the hold.
    const held = await this.orders.markCreditReleased(orderId);
    if (held === 'released' || !held) return false;
    const outcome = await this.move(
      this.orders.creditReleaseItem(orderId, held.amount),
      this.creditUsed(held.customerId, -held.amount),
    );
    if (outcome === 'done') return true;
    if (outcome !== 'order-refused') return false;
    // Released meanwhile (the next try finds no hold), or invoicing took part of it: release what is left.
    if (attempt < RELEASE_ATTEMPTS) return this.release(orderId, attempt + 1);
    throw new Error(`The credit hold of order ${orderId} changed on each of ${RELEASE_ATTEMPTS} tries to release it`);
  }

  /** Runs the two writes as one transaction and says which side's condition refused it, if any. */
  private async move(
    orderWrite: object,
    customerWrite: object,
  ): Promise<'done' | 'order-refused' | 'customer-refused'> {
    try {
      await documents().send(new TransactWriteCommand({ TransactItems: [orderWrite, customerWrite] }));
      return 'done';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [order, customer] = error.CancellationReasons ?? [];
      if (order?.Code === 'ConditionalCheckFailed') return 'order-refused';
      if (customer?.Code === 'ConditionalCheckFailed') return 'customer-refused';
      throw error;
    }
  }

  private creditUsed(customerId: string, delta: number, guard?: { condition: string; ceiling: number }) {
    return {
      Update: {
        TableName: this.customersTable,
        Key: { customerId },
        UpdateExpression: 'ADD creditUsed :delta',
        ...(guard ? { ConditionExpression: guard.condition } : {}),
        ExpressionAttributeValues: { ':delta': delta, ...(guard ? { ':ceiling': guard.ceiling } : {}) },
      },
    };
  }

  /**
   * Invoicing turns the invoiced part of the hold into an unpaid invoice: the credit stays in use
   * (the customer's creditUsed is unchanged, the invoice's openBalance added beside it), the order
   * holds that much less, so a failure after invoicing gives back only what was not invoiced (one
   * invoice per shipment). A write for the invoice's transaction.
   */
  holdInvoiced(orderId: string, amount: number) {
    return this.orders.creditHoldInvoicedItem(orderId, amount);
  }
}
