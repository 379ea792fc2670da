import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type StockRequest, shortLines } from '../core/allocation.ts';
import { OutOfStock, StockContention } from '../core/errors.ts';
import type { Product } from '../core/schemas.ts';
import { backoff } from './backoff.ts';
import { documents } from './clients.ts';
import { RESERVATION_SK } from './orders-repository.ts';

/** In-function tries of a reservation that conflicts with other orders' before StockContention is thrown. */
const RESERVE_ATTEMPTS = 4;

export class ProductNotFound extends Error {
  override name = 'ProductNotFound';
}

interface Reservation {
  orderId: string;
  sk: string;
  lines: StockRequest[];
  status: 'HELD' | 'SHIPPED' | 'RELEASED';
  createdAt: string;
}

/** Products and their stock levels (products table, partition `sku`). */
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

  /** The warehouse/ERP sync point: sets the sellable quantity; what is reserved stays reserved. */
  async setAvailable(sku: string, available: number): Promise<Product> {
    try {
      const result = await documents().send(
        new UpdateCommand({
          TableName: this.productsTable,
          Key: { sku },
          UpdateExpression: 'SET available = :a',
          ConditionExpression: 'attribute_exists(sku)',
          ExpressionAttributeValues: { ':a': available },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes as Product;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new ProductNotFound(`Product ${sku} does not exist`);
      throw error;
    }
  }
}

/**
 * Stock moves for orders. They happen only inside DynamoDB transactions whose conditions keep
 * `available` from ever going below zero, together with the order's RESERVATION record (orders
 * table) that makes each move happen once per order.
 */
export class StockLedger extends CatalogRepository {
  constructor(
    productsTable: string,
    private readonly ordersTable: string,
  ) {
    super(productsTable);
  }

  /**
   * Reserves every line or none, in ONE transaction: the reservation record (written once per
   * order) plus a conditional decrement per line. A repeat for the same order is a no-op.
   */
  async reserve(orderId: string, lines: readonly StockRequest[], at: Date): Promise<void> {
    // A hot product's transactions conflict under load: a few quick tries with full jitter here, then
    // StockContention by name for the state machine's longer backoff. Never an order outcome.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.reserveOnce(orderId, lines, at);
      } catch (error) {
        if (!(error instanceof StockContention) || attempt >= RESERVE_ATTEMPTS) throw error;
        await backoff(attempt, 25, 400);
      }
    }
  }

  private async reserveOnce(orderId: string, lines: readonly StockRequest[], at: Date): Promise<void> {
    const reservation: Reservation = {
      orderId,
      sk: RESERVATION_SK,
      lines: lines.map(({ sku, quantity }) => ({ sku, quantity })),
      status: 'HELD',
      createdAt: at.toISOString(),
    };
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.ordersTable,
                Item: reservation,
                ConditionExpression: 'attribute_not_exists(orderId)',
              },
            },
            ...lines.map((line) => ({
              Update: {
                TableName: this.productsTable,
                Key: { sku: line.sku },
                UpdateExpression: 'SET available = available - :q, reserved = reserved + :q',
                ConditionExpression: 'attribute_exists(sku) AND available >= :q',
                ExpressionAttributeValues: { ':q': line.quantity },
              },
            })),
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons.some((reason) => reason.Code === 'TransactionConflict')) {
        throw new StockContention('Stock of these products is being changed by other orders; try again', {
          cause: error,
        });
      }
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return; // already reserved for this order
      const refused = lines.filter((_, index) => reasons[index + 1]?.Code === 'ConditionalCheckFailed');
      if (refused.length === 0) throw error;
      const current = await this.getMany(refused.map((line) => line.sku));
      const available = new Map([...current].map(([sku, product]) => [sku, product.available]));
      const short = shortLines(refused, available);
      throw new OutOfStock(
        short.length > 0 ? short : refused.map((l) => ({ sku: l.sku, requested: l.quantity, available: 0 })),
      );
    }
  }

  /**
   * Gives held stock back. The reservation record stays, marked RELEASED, so a retry knows the
   * stock was released (and announces it again) and a reservation arriving late for this order
   * (a task still in flight when its workflow was stopped) finds it and reserves nothing.
   * `restockShipped`: goods booked for shipment that never left (the shipment was cancelled) go
   * back to available too.
   */
  async release(
    orderId: string,
    options: { restockShipped?: boolean } = {},
  ): Promise<'released' | 'already-released' | 'shipped' | 'none'> {
    const reservation = await documents().send(
      new GetCommand({ TableName: this.ordersTable, Key: { orderId, sk: RESERVATION_SK }, ConsistentRead: true }),
    );
    const held = reservation.Item as Reservation | undefined;
    if (!held) return (await this.tombstone(orderId)) ? 'none' : this.release(orderId, options);
    if (held.status === 'RELEASED') return 'already-released';
    if (held.status === 'SHIPPED' && !options.restockShipped) return 'shipped';
    const update =
      held.status === 'HELD'
        ? 'SET available = available + :q, reserved = reserved - :q'
        : 'SET available = available + :q';
    const done = await this.settle(orderId, held, update, 'RELEASED');
    return done ? 'released' : this.release(orderId, options);
  }

  /** The goods left the warehouse: the held quantity stops being reserved (it is not available again). */
  async ship(orderId: string): Promise<boolean> {
    const reservation = await documents().send(
      new GetCommand({ TableName: this.ordersTable, Key: { orderId, sk: RESERVATION_SK }, ConsistentRead: true }),
    );
    const held = reservation.Item as Reservation | undefined;
    if (held?.status !== 'HELD') return false;
    return this.settle(orderId, held, 'SET reserved = reserved - :q', 'SHIPPED');
  }

  /** Marks an order that never reserved as released; false when a reservation appeared meanwhile. */
  private async tombstone(orderId: string): Promise<boolean> {
    try {
      await documents().send(
        new PutCommand({
          TableName: this.ordersTable,
          Item: { orderId, sk: RESERVATION_SK, lines: [], status: 'RELEASED' },
          ConditionExpression: 'attribute_not_exists(orderId)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Moves the reservation from its current status to `to` and the stock with it, in one transaction. */
  private async settle(orderId: string, from: Reservation, stockUpdate: string, to: Reservation['status']) {
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.ordersTable,
                Key: { orderId, sk: RESERVATION_SK },
                UpdateExpression: 'SET #s = :to',
                ConditionExpression: '#s = :from',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':from': from.status, ':to': to },
              },
            },
            ...from.lines.map((line) => ({
              Update: {
                TableName: this.productsTable,
                Key: { sku: line.sku },
                UpdateExpression: stockUpdate,
                ExpressionAttributeValues: { ':q': line.quantity },
              },
            })),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons.some((reason) => reason.Code === 'TransactionConflict')) {
        throw new StockContention(`Could not settle stock of ${orderId} because of concurrent changes`, {
          cause: error,
        });
      }
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return false; // settled meanwhile
      throw error;
    }
  }
}
