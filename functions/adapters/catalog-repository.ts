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
  /** What is still held (allocations not shipped yet). */
  lines: StockRequest[];
  status: 'HELD' | 'SHIPPED' | 'RELEASED';
  createdAt: string;
  /** Per allocation id, the stock that left with its shipment. */
  shipped?: Record<string, StockRequest[]>;
  /** Allocations whose shipped stock came back (their shipment was cancelled before it left). */
  restocked?: Record<string, true>;
  /** Bumped by every move, the condition of the next one. */
  version?: number;
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
   * `restock`: allocations whose stock shipped for a shipment that never left (it was cancelled)
   * go back to available too, once each. Stock shipped for other allocations stays shipped.
   */
  async release(
    orderId: string,
    options: { restock?: readonly string[] } = {},
  ): Promise<'released' | 'already-released' | 'shipped' | 'none'> {
    const held = await this.reservation(orderId);
    if (!held) return (await this.tombstone(orderId)) ? 'none' : this.release(orderId, options);
    const restock = (options.restock ?? []).filter((id) => held.shipped?.[id] && !held.restocked?.[id]);
    const holding = held.status === 'HELD' && held.lines.length > 0;
    if (!holding && restock.length === 0) {
      if (held.status === 'RELEASED') return 'already-released';
      if (held.status === 'HELD') {
        // Nothing left held (every allocation shipped): the reservation is done.
        return (await this.settle(orderId, held, [], { status: 'SHIPPED' }))
          ? 'shipped'
          : this.release(orderId, options);
      }
      return 'shipped';
    }
    const moves = [
      ...(holding
        ? held.lines.map((line) => ({ line, update: 'SET available = available + :q, reserved = reserved - :q' }))
        : []),
      ...restock.flatMap((id) =>
        (held.shipped?.[id] ?? []).map((line) => ({ line, update: 'SET available = available + :q' })),
      ),
    ];
    const done = await this.settle(orderId, held, moves, {
      status: held.status === 'HELD' ? 'RELEASED' : held.status,
      lines: holding ? [] : held.lines,
      restocked: { ...held.restocked, ...Object.fromEntries(restock.map((id) => [id, true])) },
    });
    return done ? 'released' : this.release(orderId, options);
  }

  /**
   * The goods of one allocation left the warehouse: its held quantity stops being reserved (it is
   * not available again). Once per allocation; false when it shipped already or nothing is held.
   */
  async ship(orderId: string, allocation: { allocationId: string; lines: readonly StockRequest[] }): Promise<boolean> {
    const held = await this.reservation(orderId);
    if (held?.status !== 'HELD' || held.shipped?.[allocation.allocationId]) return false;
    const remaining = held.lines
      .map((line) => {
        const going = allocation.lines.find((l) => l.sku === line.sku)?.quantity ?? 0;
        return { sku: line.sku, quantity: line.quantity - going };
      })
      .filter((line) => line.quantity > 0);
    const moves = allocation.lines.map((line) => ({ line, update: 'SET reserved = reserved - :q' }));
    const done = await this.settle(orderId, held, moves, {
      status: remaining.length > 0 ? 'HELD' : 'SHIPPED',
      lines: remaining,
      shipped: {
        ...held.shipped,
        [allocation.allocationId]: allocation.lines.map(({ sku, quantity }) => ({ sku, quantity })),
      },
    });
    return done || this.ship(orderId, allocation);
  }

  private async reservation(orderId: string): Promise<Reservation | undefined> {
    const result = await documents().send(
      new GetCommand({ TableName: this.ordersTable, Key: { orderId, sk: RESERVATION_SK }, ConsistentRead: true }),
    );
    return result.Item as Reservation | undefined;
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

  /**
   * Writes the reservation's next state and moves the stock with it, in one transaction, on the
   * condition that the reservation is still the one read (its version): false when it changed meanwhile.
   */
  private async settle(
    orderId: string,
    from: Reservation,
    moves: readonly { line: StockRequest; update: string }[],
    to: Partial<Pick<Reservation, 'status' | 'lines' | 'shipped' | 'restocked'>>,
  ) {
    const version = from.version ?? 0;
    const next: Reservation = { ...from, ...to, version: version + 1 };
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.ordersTable,
                Item: next,
                ConditionExpression:
                  version === 0 ? 'attribute_exists(orderId) AND attribute_not_exists(version)' : 'version = :v',
                ...(version === 0 ? {} : { ExpressionAttributeValues: { ':v': version } }),
              },
            },
            ...moves.map(({ line, update }) => ({
              Update: {
                TableName: this.productsTable,
                Key: { sku: line.sku },
                UpdateExpression: update,
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
