import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, type TransactWriteCommandInput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { formatInvoiceNumber } from '../core/invoice-number.ts';
import type { Invoice } from '../core/schemas.ts';
import { documents } from './clients.ts';

/**
 * Invoices table, partition `pk`:
 *  - `COUNTER#<year>`: `{ last }`, the last number issued that year
 *  - `INVOICE#<number>`: the invoice
 *  - `ORDER#<orderId>`: which invoice an order got, so issuing is once per order
 * All three are written in one transaction, so a number is used exactly when an invoice is
 * stored with it: no gaps, no duplicates.
 */
export interface StoredInvoice extends Invoice {
  pdfKey?: string;
  emailedAt?: string;
}

const MAX_ATTEMPTS = 10;

export class InvoicesRepository {
  constructor(private readonly tableName: string) {}

  async findForOrder(orderId: string): Promise<StoredInvoice | undefined> {
    const link = await this.item(`ORDER#${orderId}`);
    return link ? ((await this.item(`INVOICE#${String(link.invoiceNumber)}`)) as StoredInvoice | undefined) : undefined;
  }

  /** Issues the order's invoice with the next number of `year`, or returns the one it already has. */
  async issue(
    draft: Omit<Invoice, 'invoiceNumber'>,
    year: number,
    /** Writes that must happen exactly when the invoice is issued (e.g. the customer's open balance). */
    alongside: NonNullable<TransactWriteCommandInput['TransactItems']> = [],
  ): Promise<StoredInvoice> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const existing = await this.findForOrder(draft.orderId);
      if (existing) return existing;
      const counter = await this.item(`COUNTER#${year}`);
      const last = typeof counter?.last === 'number' ? counter.last : 0;
      const invoice: StoredInvoice = { ...draft, invoiceNumber: formatInvoiceNumber(year, last + 1) };
      try {
        await documents().send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { pk: `COUNTER#${year}`, last: last + 1 },
                  ConditionExpression: last === 0 ? 'attribute_not_exists(pk)' : '#last = :last',
                  ...(last === 0
                    ? {}
                    : { ExpressionAttributeNames: { '#last': 'last' }, ExpressionAttributeValues: { ':last': last } }),
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { pk: `INVOICE#${invoice.invoiceNumber}`, ...invoice },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { pk: `ORDER#${draft.orderId}`, invoiceNumber: invoice.invoiceNumber },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              ...alongside,
            ],
          }),
        );
        return invoice;
      } catch (error) {
        // Another invoice took the number (or this order was invoiced meanwhile): read again and retry.
        if (!(error instanceof TransactionCanceledException)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
    throw new Error(`Could not allocate an invoice number for order ${draft.orderId} after ${MAX_ATTEMPTS} attempts`);
  }

  async update(invoiceNumber: string, changes: { pdfKey?: string; emailedAt?: string }): Promise<void> {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    await documents().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `INVOICE#${invoiceNumber}` },
        UpdateExpression: `SET ${entries.map(([field]) => `${field} = :${field}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: Object.fromEntries(entries.map(([field, value]) => [`:${field}`, value])),
      }),
    );
  }

  private async item(pk: string): Promise<Record<string, unknown> | undefined> {
    const result = await documents().send(
      new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
    );
    return result.Item;
  }
}
