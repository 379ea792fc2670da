import { InvalidOrder } from '../core/errors.ts';
import { resolveEntry } from '../core/order-entry.ts';
import type { OrderChannel, OrderEntry, Principal } from '../core/schemas.ts';
import { catalogRepository, customersRepository } from './deps.ts';
import { capturedBefore, captureOrder, type IntakeResult } from './intake.ts';

const customers = customersRepository();
const catalog = catalogRepository();

/**
 * An order entry from the CRM, e-mail, rep or import channel: resolved against the customer's record
 * and the price list (core/order-entry.ts), then captured by the one intake. Problems the intake can see
 * (unknown customer or product, no price in the currency, no card on file) are refused here with
 * InvalidOrder, naming each, and nothing is written.
 */
export async function enterOrder(command: {
  channel: OrderChannel;
  idempotencyKey: string;
  entry: OrderEntry;
  placedBy: Principal;
  keyScope?: string;
}): Promise<IntakeResult> {
  const { entry } = command;
  // A repeat is answered before the entry is resolved again: the customer's record or the price list may
  // have changed since (a product withdrawn, a card removed), but the order exists and is running.
  const repeat = await capturedBefore({ ...command, submitted: entry });
  if (repeat) return repeat;
  const [customer, products] = await Promise.all([
    customers.find(entry.customerId),
    catalog.getMany(entry.lines.map((line) => line.sku)),
  ]);
  const resolved = resolveEntry(entry, customer, products);
  if (!resolved.ok) {
    // A duplicate of this entry, resolved before the records changed, may have stored its order since the
    // check above: that order stands, and this one is answered as it rather than refused.
    const meanwhile = await capturedBefore({ ...command, submitted: entry });
    if (meanwhile) return meanwhile;
    throw new InvalidOrder(resolved.problems);
  }
  return captureOrder({
    channel: command.channel,
    idempotencyKey: command.idempotencyKey,
    request: resolved.request,
    submitted: entry,
    externalReference: entry.externalReference,
    placedBy: command.placedBy,
    keyScope: command.keyScope,
  });
}
