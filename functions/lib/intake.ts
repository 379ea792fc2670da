import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { ExecutionMismatch } from '../adapters/workflow-client.ts';
import { orderEventDetail } from '../core/events.ts';
import { orderIdFor, submissionHash } from '../core/ids.ts';
import { isTerminal, newOrder } from '../core/order.ts';
import type { Order, OrderChannel, OrderRequest, Principal } from '../core/schemas.ts';
import { IdempotencyKey } from '../core/schemas.ts';
import { actsFor, type Caller } from './caller.ts';
import { requireEnv } from './config.ts';
import { clock, eventPublisher, ordersRepository, workflowStarter } from './deps.ts';
import { errorLabel, HttpError, parseOr400 } from './http.ts';
import { metrics } from './metrics.ts';
import { logger, logOrder } from './powertools.ts';

export interface IntakeCommand {
  channel: OrderChannel;
  /**
   * Chosen by the channel: the Idempotency-Key header (web, rep), the CRM event id, the e-mail's
   * Message-ID, the import file's order reference. The same key with the same submission captures the
   * order once; with another submission it is refused (IdempotencyValidationError).
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
 * refused (IdempotencyValidationError). Lets a channel answer a repeat before it re-reads what may have
 * changed since (an entry is resolved against the customer's record and the price list).
 */
export async function capturedBefore(
  command: KeyedSubmission & { submitted: unknown },
): Promise<IntakeResult | undefined> {
  const { orderId, submission } = bindingOf(command);
  logOrder(orderId);
  const existing = await orders.find(orderId);
  if (!existing) return undefined;
  if (existing.submissionHash !== submission) throw keyReused();
  // The first attempt may have stopped after storing it (a timeout): finish what it did not.
  if (!isTerminal(existing.status)) await startAndAnnounce(existing);
  return { orderId, status: 'RECEIVED' };
}

const keyReused = () => new IdempotencyValidationError('The idempotency key was already used for another order');

/**
 * What a capture answers, the same for every repeat (as the first answer, whether the idempotency record
 * or the order itself remembers it): where the order is now is GET /orders/{orderId}.
 */
export interface IntakeResult {
  orderId: string;
  status: 'RECEIVED';
}

/**
 * How long the idempotency record answers repeats per channel: as long as the channel's sender may retry
 * or repeat (CRM webhooks retry for up to 3 days, mail servers for 5; an import file may be run again
 * weeks later). The key stays bound to its order beyond that: the order id is derived from the key and
 * the order keeps its submission's hash, so a repeat still finds it and another submission is refused.
 */
export const KEY_RETENTION_SECONDS: Record<OrderChannel, number> = {
  web: 24 * 60 * 60,
  rep: 24 * 60 * 60,
  crm: 7 * 24 * 60 * 60,
  email: 7 * 24 * 60 * 60,
  import: 30 * 24 * 60 * 60,
};

const orders = ordersRepository();
const events = eventPublisher();
const workflow = workflowStarter();

/**
 * The one intake every capture channel calls: stores the order, announces it, and starts its
 * workflow (execution name = order id). Idempotent per channel, key scope (the caller, or an import's
 * customer) and key.
 */
async function capture(command: IntakeCommand): Promise<IntakeResult> {
  const now = clock();
  const { orderId, submission } = bindingOf(command);
  let order = newOrder({
    orderId,
    request: command.request,
    channel: command.channel,
    now,
    placedBy: command.placedBy,
    externalReference: command.externalReference,
    submissionHash: submission,
  });
  // A repeat of a capture that got this far before failing finds its order: same id, no second one.
  const created = await orders.create(order);
  if (!created) {
    // The key is bound to its order for good, not only while the idempotency record lives: another
    // submission under it (after a failed attempt, a timeout, or the record's expiry) is refused.
    const existing = await orders.find(orderId);
    if (!existing || existing.submissionHash !== submission) throw keyReused();
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

const tableName = requireEnv('IDEMPOTENCY_TABLE_NAME');
// One persistence layer per channel: a layer takes the settings of the first config it serves and
// ignores any other, so a shared one would give every channel the first one's retention.
const channels = Object.fromEntries(
  Object.entries(KEY_RETENTION_SECONDS).map(([channel, expiresAfterSeconds]) => {
    const config = new IdempotencyConfig({
      eventKeyJmesPath: '[channel, keyScope, idempotencyKey]',
      payloadValidationJmesPath: 'submission',
      expiresAfterSeconds,
    });
    const persistenceStore = new DynamoDBPersistenceLayer({ tableName });
    return [channel, { config, capture: makeIdempotent(capture, { persistenceStore, config }) }];
  }),
) as Record<OrderChannel, { config: IdempotencyConfig; capture: typeof capture }>;

export async function captureOrder(command: IntakeCommand, context: Context): Promise<IntakeResult> {
  const channel = channels[command.channel];
  channel.config.registerLambdaContext(context);
  // The key names the order before it exists: every line of its capture, a repeat's too, carries its id.
  logOrder(bindingOf(command).orderId);
  // `submission` is what the payload check compares: the same key must come with the same submission.
  return channel.capture({
    ...command,
    keyScope: keyScopeOf(command),
    submission: command.submitted ?? command.request,
  } as IntakeCommand);
}

/**
 * The intake's refusals as HTTP answers: the key used with another submission (422, as the IETF
 * Idempotency-Key draft says) or a capture under the same key still running (409, retry shortly).
 * `keyName` names where the key came from (the Idempotency-Key header, the CRM event id).
 */
export function intakeRefusal(error: unknown, keyName: string): HttpError | undefined {
  if (error instanceof IdempotencyValidationError) {
    return new HttpError(422, 'IdempotencyKeyReused', `This ${keyName} was already used with a different order`, [
      { path: keyName, message: 'was used for a different request body' },
    ]);
  }
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new HttpError(
      409,
      'RequestInProgress',
      `An order with this ${keyName} is still being captured; retry shortly`,
    );
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
