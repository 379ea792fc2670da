import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import { ExecutionMismatch } from '../adapters/workflow-client.ts';
import { IdempotencyKeyReused } from '../core/errors.ts';
import { orderEventDetail } from '../core/events.ts';
import { orderIdFor, submissionHash } from '../core/ids.ts';
import { isTerminal, newOrder } from '../core/order.ts';
import type { Order, OrderChannel, OrderRequest, Principal } from '../core/schemas.ts';
import { IdempotencyKey } from '../core/schemas.ts';
import { actsFor, type Caller } from './caller.ts';
import { clock, eventPublisher, ordersRepository, workflowStarter } from './deps.ts';
import { errorLabel, HttpError, parseOr400 } from './http.ts';
import { metrics } from './metrics.ts';
import { logger, logOrder } from './powertools.ts';

export interface IntakeCommand {
  channel: OrderChannel;
  /**
   * Chosen by the channel: the Idempotency-Key header (web, rep), the CRM event id, the e-mail's
   * Message-ID, the import file's order reference. The same key with the same submission captures the
   * order once; with another submission it is refused (IdempotencyKeyReused).
   */
  idempotencyKey: string;
  request: OrderRequest;
  /**
   * What the caller sent, before the intake filled in defaults from the customer's record (order
   * entries); absent: the request itself. The key is bound to its hash, so a retry of the same submission
   * is the same order even if the customer's record changed meanwhile.
   */
  submitted?: unknown;
  externalReference?: string;
  /** Who places it. */
  placedBy: Principal;
  /**
   * Whose keys these are. By default the caller's, so one client can neither reuse nor replay another's;
   * an import's keys are the customer's (a purchase-order reference is theirs), so whoever imports the
   * file again finds the same orders.
   */
  keyScope?: string;
}

/** Whose keys a command's are: its keyScope, else the caller. */
export const keyScopeOf = (command: Pick<IntakeCommand, 'keyScope' | 'placedBy'>) =>
  command.keyScope ?? `${command.placedBy.kind}:${command.placedBy.id}`;

type KeyedSubmission = Pick<IntakeCommand, 'channel' | 'idempotencyKey' | 'placedBy' | 'keyScope'> &
  Partial<Pick<IntakeCommand, 'submitted' | 'request'>>;

/** The order a command's key names, and the hash of its submission (what the key is bound to). */
function bindingOf(command: KeyedSubmission) {
  return {
    orderId: orderIdFor(command.channel, keyScopeOf(command), command.idempotencyKey),
    submission: submissionHash(command.submitted ?? command.request),
  };
}

/**
 * The order already captured under a command's key, if any: the same submission finds it, another is
 * refused (IdempotencyKeyReused). Lets a channel answer a repeat before it re-reads what may have
 * changed since (an entry is resolved against the customer's record and the price list).
 */
export async function capturedBefore(
  command: KeyedSubmission & { submitted: unknown },
): Promise<IntakeResult | undefined> {
  const { orderId, submission } = bindingOf(command);
  logOrder(orderId);
  const existing = await orders.find(orderId);
  if (!existing) return undefined;
  if (existing.submissionHash !== submission) throw new IdempotencyKeyReused();
  // The first attempt may have stopped after storing it (a timeout): finish what it did not.
  if (!isTerminal(existing.status)) await startAndAnnounce(existing);
  return { orderId, status: 'RECEIVED' };
}

/**
 * What a capture answers, the same for every repeat, at once or at any time later: where the order is
 * now is GET /orders/{orderId}.
 */
export interface IntakeResult {
  orderId: string;
  status: 'RECEIVED';
}

const orders = ordersRepository();
const events = eventPublisher();
const workflow = workflowStarter();

/**
 * The one intake every capture channel calls: stores the order, announces it, and starts its
 * workflow (execution name = order id). Idempotent per channel, key scope (the caller, or an import's
 * customer) and key, with the order itself as the only record: its id is derived from them, so the
 * conditional write of the first capture is the one that counts, and every repeat (at the same moment
 * or months later) finds that order and answers as the first time; another submission under the key is
 * refused, since the order keeps its submission's hash.
 */
export async function captureOrder(command: IntakeCommand): Promise<IntakeResult> {
  const now = clock();
  const { orderId, submission } = bindingOf(command);
  // The key names the order before it exists: every line of its capture, a repeat's too, carries its id.
  logOrder(orderId);
  let order = newOrder({
    orderId,
    request: command.request,
    channel: command.channel,
    now,
    placedBy: command.placedBy,
    externalReference: command.externalReference,
    submissionHash: submission,
  });
  // A repeat (a retry, a duplicate sent at the same moment, a capture that failed after this) finds its
  // order: same id, no second one.
  const created = await orders.create(order);
  if (!created) {
    // The key is bound to its order for good: another submission under it is refused.
    const existing = await orders.find(orderId);
    if (!existing || existing.submissionHash !== submission) throw new IdempotencyKeyReused();
    if (isTerminal(existing.status)) return { orderId, status: 'RECEIVED' };
    order = existing;
  }
  await startAndAnnounce(order);
  logger.info('Order captured', { orderId, channel: command.channel, created });
  return { orderId, status: 'RECEIVED' };
}

/**
 * Starts the order's workflow (idempotent: the execution name is the order id) and announces it, also
 * on a repeat: the first attempt may have stopped before either (consumers are idempotent). Both at
 * once: the caller waits for one round trip instead of two, and neither depends on the other (the
 * KPI projection takes an order's events in any order).
 */
async function startAndAnnounce(order: Order): Promise<void> {
  const [started] = await Promise.allSettled([start(order.orderId), announce(order)]);
  if (started.status === 'rejected') throw started.reason;
}

async function start(orderId: string): Promise<void> {
  try {
    await workflow.start(orderId);
  } catch (error) {
    // An execution of this name started for something else: the order can never run under its name.
    if (error instanceof ExecutionMismatch) throw error;
    // The order is stored for good and the reconciler's sweep starts orders left RECEIVED: it is
    // accepted, and the caller must not think it failed (a retry with another key would be a second
    // order). Counted (WorkflowStartDeferred, alarmed), so a start that keeps failing is seen at once.
    logger.error('Could not start the workflow; the sweep will start it', { orderId, ...errorLabel(error) });
    metrics.addMetric('WorkflowStartDeferred', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  }
}

async function announce(order: Order): Promise<void> {
  try {
    await events.publish('OrderReceived', {
      ...orderEventDetail(order, 'OrderReceived', order.createdAt),
      status: 'RECEIVED',
    });
  } catch (error) {
    // The order and its workflow exist; a lost announcement must not make the caller retry.
    logger.error('Could not publish OrderReceived', { orderId: order.orderId, error: (error as Error).name });
  }
}

/**
 * The intake's refusal as an HTTP answer: the key used with another submission (422, as the IETF
 * Idempotency-Key draft says). `keyName` names where the key came from (the Idempotency-Key header,
 * the CRM event id).
 */
export function intakeRefusal(error: unknown, keyName: string): HttpError | undefined {
  if (error instanceof IdempotencyKeyReused) {
    return new HttpError(422, 'IdempotencyKeyReused', `This ${keyName} was already used with a different order`, [
      { path: keyName, message: 'was used for a different request body' },
    ]);
  }
  return undefined;
}

/** The Idempotency-Key header of an HTTP capture (POST /orders, POST /order-entries), or 400 naming it. */
export function idempotencyKeyOf(event: APIGatewayProxyEventV2): string {
  return parseOr400(
    z.object({ 'idempotency-key': IdempotencyKey }),
    { 'idempotency-key': event.headers?.['idempotency-key'] },
    'Idempotency-Key header',
  )['idempotency-key'];
}

/** A customer-bound client captures for its own customer only: 403 naming customerId otherwise. */
export function requireActsFor(caller: Caller, customerId: string): void {
  if (!actsFor(caller, customerId)) {
    throw new HttpError(403, 'Forbidden', 'This client may order for its own customer only', [
      { path: 'customerId', message: 'is not the customer this client acts for' },
    ]);
  }
}
