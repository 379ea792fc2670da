import { BatchGetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Product } from '../core/schemas.ts';
import { documents } from './clients/dynamodb.ts';

/** Products (products table, partition `sku`); their stock is in the stock table (stock-repository.ts). */
export class CatalogRepository {
  constructor(protected readonly productsTable: string) {}

  async list(): Promise<Product[]> {
    const products: Product[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents().send(
        new ScanCommand({ TableName: this.productsTable, ExclusiveStartKey: startKey }),
      );
      products.push(...((page.Items ?? []) as Product[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return products.sort((a, b) => a.sku.localeCompare(b.sku));
  }

  async getMany(skus: readonly string[]): Promise<Map<string, Product>> {
    const found = new Map<string, Product>();
    let keys = [...new Set(skus)].map((sku) => ({ sku }));
    while (keys.length > 0) {
      const result = await documents().send(
        new BatchGetCommand({
          RequestItems: { [this.productsTable]: { Keys: keys.slice(0, 100), ConsistentRead: true } },
        }),
      );
      for (const item of result.Responses?.[this.productsTable] ?? []) found.set(String(item.sku), item as Product);
      const unprocessed = (result.UnprocessedKeys?.[this.productsTable]?.Keys ?? []) as { sku: string }[];
      keys = [...unprocessed, ...keys.slice(100)];
    }
    return found;
  }

  async put(product: Product): Promise<void> {
    await documents().send(new PutCommand({ TableName: this.productsTable, Item: product }));
  }
}
