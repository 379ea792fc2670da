import type { ShortLine } from './errors.ts';

export interface StockRequest {
  sku: string;
  quantity: number;
}

/**
 * Which lines cannot be served from the stock levels given. Used to explain an all-or-nothing
 * reservation that DynamoDB refused; the refusal itself is decided by the transaction's conditions.
 */
export function shortLines(requested: readonly StockRequest[], available: ReadonlyMap<string, number>): ShortLine[] {
  return requested
    .map((line) => ({ sku: line.sku, requested: line.quantity, available: available.get(line.sku) ?? 0 }))
    .filter((line) => line.available < line.requested);
}
