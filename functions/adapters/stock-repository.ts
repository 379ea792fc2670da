import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { allocate, nextAllocationIds, type StockRequest, shortLines, totalAvailable } from '../core/allocation.ts';
import {
  AdjustmentKeyReused,
  OrderCancelled,
  OutOfStock,
  StockBelowReserved,
  StockContention,
  WriteOffExceedsAvailable,
} from '../core/errors.ts';
import {
  type Allocation,
  type FulfilmentPolicy,
  type StockItem,
  type StockLine,
  TERMINAL_STATUSES,
} from '../core/schemas.ts';
import { TRANSACTION_ITEM_LIMIT, WAREHOUSE_IDS } from '../core/warehouses.ts';
import { backoff } from './backoff.ts';
import { documents } from './clients/dynamodb.ts';
import { ORDER_SK, RESERVATION_SK } from './orders-repository.ts';

/** In-function tries of a reservation that conflicts with other orders' before StockContention is thrown. */
const RESERVE_ATTEMPTS = 4;
/** Sort keys of adjustment audit items (stock table): `ADJUSTMENT#<at>#<id>` beside the warehouse items. */
const ADJUSTMENT_PREFIX = 'ADJUSTMENT#';
export const BACKORDER_PREFIX = 'BACKORDER#';
export const BACKORDERS_INDEX = 'backorders';

export interface StockAdjustment {
  adjustmentId: string;
  sku: string;
  warehouseId: string;
  delta: number;
  reason: string;
  by: string;
  at: string;
}

/** An allocation as the reservation record keeps it: HELD until it ships or is released. */
interface HeldAllocation {
  warehouseId: string;
  lines: StockLine[];
  status: 'HELD' | 'SHIPPED' | 'RELEASED';
}

/**
 * The order's reservation record (orders table, sk RESERVATION): its allocations by id. RELEASED:
 * the order gave its stock back (or never reserved); a reservation arriving late reserves nothing.
 */
interface Reservation {
  orderId: string;
  sk: string;
  status: 'HELD' | 'RELEASED';
  allocations: Record<string, HeldAllocation>;
  createdAt?: string;
}

/** Sort keys of the Idempotency-Key records of adjustments: `ADJUSTMENT-KEY#<key>`. */
const ADJUSTMENT_KEY_PREFIX = 'ADJUSTMENT-KEY#';
/** Warehouse items; audit and key records have a `#` in their sort key, warehouse ids never. */
const isStockItem = (item: Record<string, unknown>) => !String(item.warehouseId).includes('#');
const toStockItem = ({ sku, warehouseId, onHand, reserved, available }: Record<string, unknown>): StockItem =>
  ({ sku, warehouseId, onHand, reserved, available }) as StockItem;

/** Stock per product and warehouse (stock table: partition `sku`, sort `warehouseId`). */
export class StockRepository {
  constructor(protected readonly stockTable: string) {}

  async list(): Promise<StockItem[]> {
    const items: StockItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents().send(new ScanCommand({ TableName: this.stockTable, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []).filter(isStockItem).map(toStockItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** The stock items of these SKUs in every warehouse (consistent reads). */
  async levels(skus: readonly string[]): Promise<StockItem[]> {
    const pages = await Promise.all(
      [...new Set(skus)].map((sku) =>
        documents().send(
          new QueryCommand({
            TableName: this.stockTable,
            KeyConditionExpression: 'sku = :sku',
            ExpressionAttributeValues: { ':sku': sku },
            ConsistentRead: true,
          }),
        ),
      ),
    );
    return pages.flatMap((page) => (page.Items ?? []).filter(isStockItem).map(toStockItem));
  }

  async put(item: StockItem): Promise<void> {
    await documents().send(new PutCommand({ TableName: this.stockTable, Item: item }));
  }

  /**
   * The counted quantity on hand: onHand set, available = onHand - reserved, in one conditional
   * update (reserved <= onHand, else StockBelowReserved). A warehouse without the product gets its item.
   */
  async setOnHand(sku: string, warehouseId: string, onHand: number): Promise<StockItem> {
    try {
      const result = await documents().send(
        new UpdateCommand({
          TableName: this.stockTable,
          Key: { sku, warehouseId },
          UpdateExpression:
            'SET onHand = :o, reserved = if_not_exists(reserved, :zero), available = :o - if_not_exists(reserved, :zero)',
          ConditionExpression: 'attribute_not_exists(reserved) OR reserved <= :o',
          ExpressionAttributeValues: { ':o': onHand, ':zero': 0 },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toStockItem(result.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new StockBelowReserved(sku, warehouseId, Number(error.Item?.reserved?.N ?? 0));
      throw error;
    }
  }

  /**
   * A receipt (delta > 0) or write-off (delta < 0), with its audit item, in one transaction. A
   * write-off may not take available below zero (WriteOffExceedsAvailable).
   */
  async adjust(
    adjustment: StockAdjustment,
    idempotencyKey?: string,
  ): Promise<{ adjustment: StockAdjustment; stock: StockItem; replayed: boolean }> {
    const { sku, warehouseId, delta } = adjustment;
    // A client's retry with the same Idempotency-Key: the key record is written with the
    // adjustment, so a repeat finds it and changes nothing.
    const keyRecord = idempotencyKey
      ? [
          {
            Put: {
              TableName: this.stockTable,
              Item: { sku, warehouseId: `${ADJUSTMENT_KEY_PREFIX}${idempotencyKey}`, adjustment },
              ConditionExpression: 'attribute_not_exists(sku)',
            },
          },
        ]
      : [];
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.stockTable,
                Key: { sku, warehouseId },
                UpdateExpression:
                  'SET onHand = if_not_exists(onHand, :zero) + :d, available = if_not_exists(available, :zero) + :d, reserved = if_not_exists(reserved, :zero)',
                ...(delta < 0
                  ? {
                      ConditionExpression: 'available >= :out',
                      ExpressionAttributeValues: { ':d': delta, ':zero': 0, ':out': -delta },
                    }
                  : { ExpressionAttributeValues: { ':d': delta, ':zero': 0 } }),
              },
            },
            {
              Put: {
                TableName: this.stockTable,
                Item: {
                  ...adjustment,
                  sku,
                  warehouseId: `${ADJUSTMENT_PREFIX}${adjustment.at}#${adjustment.adjustmentId}`,
                  stockWarehouseId: warehouseId,
                },
                ConditionExpression: 'attribute_not_exists(sku)',
              },
            },
            ...keyRecord,
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (idempotencyKey && reasons[2]?.Code === 'ConditionalCheckFailed')
        return this.replay(adjustment, idempotencyKey);
      if (reasons.some((r) => r.Code === 'TransactionConflict'))
        throw new StockContention(`Stock of ${sku} is being changed by other orders; try again`, { cause: error });
      if (reasons[0]?.Code === 'ConditionalCheckFailed') {
        const [current] = (await this.levels([sku])).filter((i) => i.warehouseId === warehouseId);
        throw new WriteOffExceedsAvailable(sku, warehouseId, current?.available ?? 0);
      }
      throw error;
    }
    return { adjustment, stock: await this.item(sku, warehouseId), replayed: false };
  }

  private async item(sku: string, warehouseId: string): Promise<StockItem> {
    const [item] = (await this.levels([sku])).filter((i) => i.warehouseId === warehouseId);
    return item ?? { sku, warehouseId, onHand: 0, reserved: 0, available: 0 };
  }

  /** The adjustment first recorded under this key; AdjustmentKeyReused when it was a different one. */
  private async replay(adjustment: StockAdjustment, idempotencyKey: string) {
    const { sku } = adjustment;
    const result = await documents().send(
      new GetCommand({
        TableName: this.stockTable,
        Key: { sku, warehouseId: `${ADJUSTMENT_KEY_PREFIX}${idempotencyKey}` },
        ConsistentRead: true,
      }),
    );
    const first = result.Item?.adjustment as StockAdjustment | undefined;
    if (!first) throw new Error(`Adjustment key ${idempotencyKey} of ${sku} vanished`);
    const same = (['warehouseId', 'delta', 'reason'] as const).every((field) => first[field] === adjustment[field]);
    if (!same)
      throw new AdjustmentKeyReused(`This Idempotency-Key was already used for a different adjustment of ${sku}`);
    return { adjustment: first, stock: await this.item(sku, first.warehouseId), replayed: true };
  }

  /** The audit trail of one product's adjustments, oldest first. */
  async adjustments(sku: string): Promise<StockAdjustment[]> {
    const page = await documents().send(
      new QueryCommand({
        TableName: this.stockTable,
        KeyConditionExpression: 'sku = :sku AND begins_with(warehouseId, :adj)',
        ExpressionAttributeValues: { ':sku': sku, ':adj': ADJUSTMENT_PREFIX },
        ConsistentRead: true,
      }),
    );
    return (page.Items ?? []).map((item) => ({ ...item, warehouseId: item.stockWarehouseId }) as StockAdjustment);
  }
}

/** sku -> warehouseId -> available, from stock items. */
export function availability(items: readonly StockItem[]): Map<string, Map<string, number>> {
  const levels = new Map<string, Map<string, number>>();
  for (const item of items) {
    const bySku = levels.get(item.sku) ?? new Map<string, number>();
    bySku.set(item.warehouseId, item.available);
    levels.set(item.sku, bySku);
  }
  return levels;
}

/** How one unit of an allocation's lines moves the stock item's counters (+1, -1 or 0 each). */
type StockMove = { onHand?: number; reserved?: number; available?: number };

/** What a reservation wrote on the order: its allocations, and the backordered lines with their expiry. */
export interface ReserveOutcome {
  allocations: Allocation[];
  backorder: StockLine[];
  backorderExpiresAt?: string;
}

const stockMove = (table: string, warehouseId: string, line: StockLine, update: string, condition?: string) => ({
  Update: {
    TableName: table,
    Key: { sku: line.sku, warehouseId },
    UpdateExpression: update,
    ...(condition ? { ConditionExpression: condition } : {}),
    ExpressionAttributeValues: { ':q': line.quantity },
  },
});

function cancellation(error: unknown, what: string): 'condition' {
  if (!(error instanceof TransactionCanceledException)) throw error;
  const reasons = error.CancellationReasons ?? [];
  if (reasons.some((reason) => reason.Code === 'TransactionConflict'))
    throw new StockContention(`${what}: stock is being changed by other orders; try again`, { cause: error });
  if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return 'condition';
  throw error;
}

/**
 * Stock moves for orders. They happen only inside DynamoDB transactions whose conditions keep
 * `available` from ever going below zero, together with the order's RESERVATION record (orders
 * table) that makes each move happen once per order and allocation.
 */
export class StockLedger extends StockRepository {
  constructor(
    stockTable: string,
    private readonly ordersTable: string,
  ) {
    super(stockTable);
  }

  private async reservation(orderId: string): Promise<Reservation | undefined> {
    const result = await documents().send(
      new GetCommand({ TableName: this.ordersTable, Key: { orderId, sk: RESERVATION_SK }, ConsistentRead: true }),
    );
    return result.Item as Reservation | undefined;
  }

  /**
   * Reserves the order's lines across the warehouses (allocation rule: core/allocation.ts) in ONE
   * transaction: the reservation record (once per order), the order's allocations and backorder,
   * one `BACKORDER#<sku>` item per backordered line, and a conditional move per stock item.
   * all_or_nothing: a short line is OutOfStock and nothing is reserved. A repeat is a no-op.
   */
  async reserve(
    order: { orderId: string; lines: readonly StockRequest[]; policy: FulfilmentPolicy },
    at: Date,
    backorderDays: number,
  ): Promise<ReserveOutcome | 'already-reserved'> {
    // A hot product's transactions conflict under load: a few quick tries with full jitter here, then
    // StockContention by name for the state machine's longer backoff. Never an order outcome.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.reserveOnce(order, at, backorderDays);
      } catch (error) {
        if (!(error instanceof StockContention) || attempt >= RESERVE_ATTEMPTS) throw error;
        await backoff(attempt, 25, 400);
      }
    }
  }

  private async reserveOnce(
    order: { orderId: string; lines: readonly StockRequest[]; policy: FulfilmentPolicy },
    at: Date,
    backorderDays: number,
  ): Promise<ReserveOutcome | 'already-reserved'> {
    const { orderId, lines, policy } = order;
    if (await this.reservation(orderId)) return 'already-reserved';
    const levels = availability(await this.levels(lines.map((l) => l.sku)));
    const plan = allocate(lines, levels, WAREHOUSE_IDS);
    if (plan.backorder.length > 0 && policy === 'all_or_nothing') {
      const short = shortLines(lines, totalAvailable(levels));
      throw new OutOfStock(short);
    }
    const now = at.toISOString();
    const ids = nextAllocationIds(0, plan.allocations.length);
    const allocations: Allocation[] = plan.allocations.map((a, i) => ({
      allocationId: ids[i] as string,
      warehouseId: a.warehouseId,
      lines: a.lines,
      at: now,
    }));
    const backorder =
      plan.backorder.length > 0
        ? {
            lines: plan.backorder,
            since: now,
            expiresAt: new Date(at.getTime() + backorderDays * 86_400_000).toISOString(),
          }
        : undefined;
    const record: Reservation = {
      orderId,
      sk: RESERVATION_SK,
      status: 'HELD',
      allocations: Object.fromEntries(
        allocations.map((a) => [a.allocationId, { warehouseId: a.warehouseId, lines: a.lines, status: 'HELD' }]),
      ),
      createdAt: now,
    };
    const moves = allocations.flatMap((a) =>
      a.lines.map((line) =>
        stockMove(
          this.stockTable,
          a.warehouseId,
          line,
          'SET available = available - :q, reserved = reserved + :q',
          'available >= :q',
        ),
      ),
    );
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: { TableName: this.ordersTable, Item: record, ConditionExpression: 'attribute_not_exists(orderId)' },
            },
            {
              Update: {
                TableName: this.ordersTable,
                Key: { orderId, sk: ORDER_SK },
                UpdateExpression: backorder ? 'SET allocations = :a, backorder = :b' : 'SET allocations = :a',
                // A cancelled order reserves nothing: the fence is checked in the reserving transaction.
                ConditionExpression: 'attribute_exists(orderId) AND attribute_not_exists(cancellation)',
                ExpressionAttributeValues: { ':a': allocations, ...(backorder ? { ':b': backorder } : {}) },
              },
            },
            ...(backorder?.lines ?? []).map((line) => ({
              Put: {
                TableName: this.ordersTable,
                Item: {
                  orderId,
                  sk: `${BACKORDER_PREFIX}${line.sku}`,
                  backorderSku: line.sku,
                  since: now,
                  quantity: line.quantity,
                },
              },
            })),
            ...moves,
          ],
        }),
      );
    } catch (error) {
      // Only a refused condition gets past this: what was not written is never answered as reserved.
      cancellation(error, `Reserving ${orderId}`);
      const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'already-reserved';
      if (reasons[1]?.Code === 'ConditionalCheckFailed') throw new OrderCancelled(orderId);
      // Another order took the stock between our read and our write: plan again.
      throw new StockContention(`Stock of ${orderId}'s products changed while reserving; try again`, {
        cause: error,
      });
    }
    return {
      allocations,
      backorder: backorder?.lines ?? [],
      ...(backorder ? { backorderExpiresAt: backorder.expiresAt } : {}),
    };
  }

  /**
   * The goods of one allocation (or of every held allocation when none is named) left the
   * warehouse: onHand and reserved both go down. Idempotent per allocation; false when nothing was held.
   */
  async ship(orderId: string, allocationId?: string): Promise<boolean> {
    const held = await this.reservation(orderId);
    if (!held) return false;
    const ids = Object.entries(held.allocations ?? {})
      .filter(([id, a]) => a.status === 'HELD' && (allocationId === undefined || id === allocationId))
      .map(([id]) => id);
    if (ids.length === 0) return false;
    for (const batch of this.batches(held, ids, 0)) {
      const done = await this.settle(held, batch, 'SHIPPED', () => ({ onHand: -1, reserved: -1 }));
      if (!done) return this.ship(orderId, allocationId);
    }
    return true;
  }

  /**
   * Gives one allocation's held stock back (its shipment will not be made: the order was cancelled
   * before it was booked); the record stays open for the rest. Idempotent: false when the
   * allocation is not held (released or shipped already, or unknown).
   */
  async releaseAllocation(orderId: string, allocationId: string): Promise<boolean> {
    const held = await this.reservation(orderId);
    if (held?.allocations?.[allocationId]?.status !== 'HELD') return false;
    const done = await this.settle(held, [allocationId], 'RELEASED', () => ({ available: 1, reserved: -1 }));
    return done || this.releaseAllocation(orderId, allocationId);
  }

  /**
   * Gives held stock back and closes the record (RELEASED), so a reservation or backorder fill
   * arriving late reserves nothing. `restock`: shipped allocations whose shipment was cancelled
   * before it left: their goods are back on hand. Returns what happened and the allocations that
   * stay shipped.
   */
  async release(
    orderId: string,
    options: { restock?: readonly string[] } = {},
  ): Promise<{ outcome: 'released' | 'already-released' | 'none'; shipped: string[] }> {
    const held = await this.reservation(orderId);
    if (!held)
      return (await this.tombstone(orderId)) ? { outcome: 'none', shipped: [] } : this.release(orderId, options);
    const entries = Object.entries(held.allocations ?? {});
    const release = entries.filter(([, a]) => a.status === 'HELD').map(([id]) => id);
    const restock = entries
      .filter(([id, a]) => a.status === 'SHIPPED' && (options.restock ?? []).includes(id))
      .map(([id]) => id);
    const shipped = entries.filter(([id, a]) => a.status === 'SHIPPED' && !restock.includes(id)).map(([id]) => id);
    if (held.status === 'RELEASED' && release.length === 0 && restock.length === 0)
      return { outcome: 'already-released', shipped };
    const backorders = await documents().send(
      new QueryCommand({
        TableName: this.ordersTable,
        KeyConditionExpression: 'orderId = :id AND begins_with(sk, :b)',
        ExpressionAttributeValues: { ':id': orderId, ':b': BACKORDER_PREFIX },
        ConsistentRead: true,
      }),
    );
    const deletes = (backorders.Items ?? []).map((item) => ({
      Delete: { TableName: this.ordersTable, Key: { orderId, sk: String(item.sk) } },
    }));
    // Many allocations (a backorder filled in steps) go in several transactions, each moving its
    // allocations with their stock; the last one closes the record and removes the backorder items.
    const batches = this.batches(held, [...release, ...restock], 1 + deletes.length);
    for (const [index, batch] of batches.entries()) {
      const last = index === batches.length - 1;
      const done = await this.settle(
        held,
        batch,
        'RELEASED',
        (id) => (release.includes(id) ? { available: 1, reserved: -1 } : { available: 1, onHand: 1 }),
        last,
        last ? deletes : [],
      );
      if (!done) return this.release(orderId, options);
    }
    return { outcome: 'released', shipped };
  }

  /**
   * Allocation ids in groups whose stock moves fit one transaction beside the reservation record;
   * the last group also leaves room for `lastExtra` items. Always at least one (possibly empty) group.
   */
  private batches(held: Reservation, ids: readonly string[], lastExtra: number): string[][] {
    const budget = TRANSACTION_ITEM_LIMIT - 1; // beside the reservation record
    const size = (id: string) => held.allocations[id]?.lines.length ?? 0;
    const groups: string[][] = [];
    let current: string[] = [];
    let used = 0;
    for (const id of ids) {
      if (current.length > 0 && used + size(id) > budget) {
        groups.push(current);
        current = [];
        used = 0;
      }
      current.push(id);
      used += size(id);
    }
    // The last group also carries `lastExtra` items; when they do not fit, it closes on its own.
    if (used + lastExtra > budget && current.length > 0) {
      groups.push(current);
      current = [];
    }
    groups.push(current);
    return groups;
  }

  /** Marks an order that never reserved as released; false when a reservation appeared meanwhile. */
  private async tombstone(orderId: string): Promise<boolean> {
    try {
      await documents().send(
        new PutCommand({
          TableName: this.ordersTable,
          Item: { orderId, sk: RESERVATION_SK, allocations: {}, status: 'RELEASED' },
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
   * Moves allocations from their current status to `to` and the stock with them, in one
   * transaction conditional on each allocation's status as read. False when it changed meanwhile.
   */
  private async settle(
    held: Reservation,
    ids: readonly string[],
    to: HeldAllocation['status'],
    stockUpdate: (id: string) => StockMove,
    closeRecord = false,
    extra: Record<string, unknown>[] = [],
  ): Promise<boolean> {
    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = ids.length > 0 ? { ':to': to } : {};
    const sets: string[] = [];
    const conditions: string[] = ['attribute_exists(orderId)'];
    ids.forEach((id, i) => {
      names[`#a${i}`] = id;
      values[`:from${i}`] = held.allocations[id]?.status;
      sets.push(`allocations.#a${i}.#s = :to`);
      conditions.push(`allocations.#a${i}.#s = :from${i}`);
    });
    if (closeRecord) {
      values[':released'] = 'RELEASED';
      sets.push('#s = :released');
      // Closed only with the allocations as read: one a backorder fill added meanwhile is released too
      // (the caller reads again), so its stock is never left reserved on a released record.
      values[':allocationCount'] = Object.keys(held.allocations ?? {}).length;
      conditions.push('size(allocations) = :allocationCount');
    }
    // One update per stock item: allocations of the same warehouse (a backorder filled there
    // later) move the same item, and a transaction may touch an item once only.
    const totals = new Map<string, { sku: string; warehouseId: string; delta: Required<StockMove> }>();
    for (const id of ids) {
      const allocation = held.allocations[id] as HeldAllocation;
      const move = stockUpdate(id);
      for (const line of allocation.lines) {
        const key = `${line.sku}#${allocation.warehouseId}`;
        const entry = totals.get(key) ?? {
          sku: line.sku,
          warehouseId: allocation.warehouseId,
          delta: { onHand: 0, reserved: 0, available: 0 },
        };
        for (const field of ['onHand', 'reserved', 'available'] as const)
          entry.delta[field] += (move[field] ?? 0) * line.quantity;
        totals.set(key, entry);
      }
    }
    const moves = [...totals.values()].map(({ sku, warehouseId, delta }) => {
      const fields = (['onHand', 'reserved', 'available'] as const).filter((field) => delta[field] !== 0);
      return {
        Update: {
          TableName: this.stockTable,
          Key: { sku, warehouseId },
          UpdateExpression: `SET ${fields.map((f) => `${f} = ${f} + :${f}`).join(', ')}`,
          ExpressionAttributeValues: Object.fromEntries(fields.map((f) => [`:${f}`, delta[f]])),
        },
      };
    });
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.ordersTable,
                Key: { orderId: held.orderId, sk: RESERVATION_SK },
                UpdateExpression: `SET ${sets.join(', ')}`,
                ConditionExpression: conditions.join(' AND '),
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
              },
            },
            ...(extra as never[]),
            ...moves,
          ],
        }),
      );
      return true;
    } catch (error) {
      cancellation(error, `Settling stock of ${held.orderId}`);
      return false; // settled meanwhile: read again
    }
  }
}

/** An order waiting for stock, as the fill reads it. */
export interface WaitingOrder {
  orderId: string;
  allocations: Allocation[];
  backorder: { lines: StockLine[] };
}

export class BackorderLedger extends StockLedger {
  constructor(
    stockTable: string,
    private readonly orders: string,
  ) {
    super(stockTable, orders);
  }

  /** Orders waiting for this SKU, oldest first (sparse index of `BACKORDER#<sku>` items): the first page. */
  async waitingFor(sku: string, limit = 25): Promise<string[]> {
    for await (const page of this.waitingPages(sku, limit)) return page;
    return [];
  }

  /** All orders waiting for this SKU, oldest first, page by page (the caller stops when stock runs out). */
  async *waitingPages(sku: string, pageSize = 25): AsyncGenerator<string[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents().send(
        new QueryCommand({
          TableName: this.orders,
          IndexName: BACKORDERS_INDEX,
          KeyConditionExpression: 'backorderSku = :sku',
          ExpressionAttributeValues: { ':sku': sku },
          ScanIndexForward: true,
          Limit: pageSize,
          ExclusiveStartKey: startKey,
        }),
      );
      const ids = [...new Set((page.Items ?? []).map((item) => String(item.orderId)))];
      if (ids.length > 0) yield ids;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * Serves what it can of an order's backorder as new allocations (A<n>, one per warehouse), in one
   * transaction conditional on the backorder as read and the reservation still held. Returns the
   * new allocations and what still waits; undefined when nothing could be served.
   */
  async fill(order: WaitingOrder, at: Date): Promise<{ allocations: Allocation[]; rest: StockLine[] } | undefined> {
    const waiting = order.backorder.lines;
    if (waiting.length === 0) return undefined;
    const plan = allocate(waiting, availability(await this.levels(waiting.map((l) => l.sku))), WAREHOUSE_IDS);
    if (plan.allocations.length === 0) return undefined;
    const now = at.toISOString();
    const ids = nextAllocationIds(order.allocations.length, plan.allocations.length);
    const allocations: Allocation[] = plan.allocations.map((a, i) => ({
      allocationId: ids[i] as string,
      warehouseId: a.warehouseId,
      lines: a.lines,
      at: now,
    }));
    const rest = plan.backorder;
    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = { ':held': 'HELD' };
    allocations.forEach((a, i) => {
      names[`#a${i}`] = a.allocationId;
      values[`:a${i}`] = { warehouseId: a.warehouseId, lines: a.lines, status: 'HELD' };
    });
    const restSkus = new Map(rest.map((l) => [l.sku, l.quantity]));
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.orders,
                Key: { orderId: order.orderId, sk: RESERVATION_SK },
                UpdateExpression: `SET ${allocations.map((_, i) => `allocations.#a${i} = :a${i}`).join(', ')}`,
                ConditionExpression: `#s = :held AND ${allocations.map((_, i) => `attribute_not_exists(allocations.#a${i})`).join(' AND ')}`,
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: values,
              },
            },
            {
              Update: {
                TableName: this.orders,
                Key: { orderId: order.orderId, sk: ORDER_SK },
                UpdateExpression: 'SET allocations = list_append(allocations, :new), backorder.#lines = :rest',
                // A cancelled, closing or ended order's backorder is never served, nor one that expired:
                // the stock goes to the next order.
                ConditionExpression:
                  'backorder.#lines = :old AND size(allocations) = :count AND attribute_not_exists(cancellation)' +
                  ' AND attribute_not_exists(closing) AND NOT (#status IN (:t0, :t1, :t2, :t3))' +
                  ' AND backorder.expiresAt > :now',
                ExpressionAttributeNames: { '#lines': 'lines', '#status': 'status' },
                ExpressionAttributeValues: {
                  ':new': allocations,
                  ':rest': rest,
                  ':old': waiting,
                  ':count': order.allocations.length,
                  ':now': now,
                  ...Object.fromEntries(TERMINAL_STATUSES.map((status, i) => [`:t${i}`, status])),
                },
              },
            },
            ...waiting.map((line) =>
              restSkus.has(line.sku)
                ? {
                    Update: {
                      TableName: this.orders,
                      Key: { orderId: order.orderId, sk: `${BACKORDER_PREFIX}${line.sku}` },
                      UpdateExpression: 'SET quantity = :q',
                      ExpressionAttributeValues: { ':q': restSkus.get(line.sku) },
                    },
                  }
                : {
                    Delete: {
                      TableName: this.orders,
                      Key: { orderId: order.orderId, sk: `${BACKORDER_PREFIX}${line.sku}` },
                    },
                  },
            ),
            ...allocations.flatMap((a) =>
              a.lines.map((line) =>
                stockMove(
                  this.stockTable,
                  a.warehouseId,
                  line,
                  'SET available = available - :q, reserved = reserved + :q',
                  'available >= :q',
                ),
              ),
            ),
          ],
        }),
      );
    } catch (error) {
      cancellation(error, `Filling the backorder of ${order.orderId}`);
      return undefined; // the order or the stock changed meanwhile: the caller reads again
    }
    return { allocations, rest };
  }

  /**
   * Cancels what still waits (the backorder expired): the lines become `cancelledLines`, the
   * `BACKORDER#` items go, in one transaction conditional on the backorder as read.
   */
  async cancelRemainder(orderId: string, waiting: readonly StockLine[]): Promise<boolean> {
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.orders,
                Key: { orderId, sk: ORDER_SK },
                UpdateExpression: 'SET backorder.#lines = :empty, backorder.cancelledLines = :old',
                ConditionExpression: 'backorder.#lines = :old',
                ExpressionAttributeNames: { '#lines': 'lines' },
                ExpressionAttributeValues: { ':empty': [], ':old': waiting },
              },
            },
            ...waiting.map((line) => ({
              Delete: { TableName: this.orders, Key: { orderId, sk: `${BACKORDER_PREFIX}${line.sku}` } },
            })),
          ],
        }),
      );
      return true;
    } catch (error) {
      cancellation(error, `Cancelling the backorder of ${orderId}`);
      return false;
    }
  }

  /** Parks the workflow's task token on a backorder still waiting; false when it was filled meanwhile. */
  async parkToken(orderId: string, taskToken: string): Promise<boolean> {
    try {
      await documents().send(
        new UpdateCommand({
          TableName: this.orders,
          Key: { orderId, sk: ORDER_SK },
          UpdateExpression: 'SET backorder.taskToken = :t',
          ConditionExpression: 'size(backorder.#lines) > :zero AND attribute_not_exists(cancellation)',
          ExpressionAttributeNames: { '#lines': 'lines' },
          ExpressionAttributeValues: { ':t': taskToken, ':zero': 0 },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
