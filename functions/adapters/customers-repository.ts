import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Customer } from '../core/schemas.ts';
import { documents } from './clients.ts';

/** Customers table, partition `customerId`. */
export class CustomersRepository {
  constructor(private readonly tableName: string) {}

  async find(customerId: string): Promise<Customer | undefined> {
    const result = await documents().send(new GetCommand({ TableName: this.tableName, Key: { customerId } }));
    return result.Item as Customer | undefined;
  }

  async list(): Promise<Customer[]> {
    const customers: Customer[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents().send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }));
      customers.push(...((page.Items ?? []) as Customer[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return customers.sort((a, b) => a.customerId.localeCompare(b.customerId));
  }

  async put(customer: Customer): Promise<void> {
    await documents().send(new PutCommand({ TableName: this.tableName, Item: customer }));
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
