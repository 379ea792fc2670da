import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { orderIdFor } from '../core/ids.ts';
import { newOrder } from '../core/order.ts';
import type { Order, OrderRequest, Principal } from '../core/schemas.ts';
import { requireEnv } from './config.ts';
import { clock, eventPublisher, ordersRepository, workflowStarter } from './deps.ts';
import { logger } from './powertools.ts';

export interface IntakeCommand {
  channel: Order['channel'];
  /** Chosen by the caller; the same key with the same request captures the order once. */
  idempotencyKey: string;
  request: OrderRequest;
  /** Who places it: keys are per caller, so one client can neither reuse nor replay another's. */
  placedBy: Principal;
}

export interface IntakeResult {
  orderId: string;
  status: 'RECEIVED';
}

const orders = ordersRepository();
const events = eventPublisher();
const workflow = workflowStarter();

const config = new IdempotencyConfig({
  eventKeyJmesPath: '[channel, placedBy.kind, placedBy.id, idempotencyKey]',
  payloadValidationJmesPath: 'request',
  expiresAfterSeconds: 24 * 60 * 60,
});

/**
 * The one intake every capture channel calls: stores the order, announces it, and starts its
 * workflow (execution name = order id). Idempotent per channel and key for 24 hours.
 */
async function capture(command: IntakeCommand): Promise<IntakeResult> {
  const now = clock();
  const { placedBy } = command;
  const orderId = orderIdFor(
    command.channel,
    `${placedBy.kind}:${placedBy.id}:${command.idempotencyKey}`,
    command.request,
  );
  const order = newOrder({ orderId, request: command.request, channel: command.channel, now, placedBy });
  // A repeat of a capture that got this far before failing finds its order: same id, no second one.
  const created = await orders.create(order);
  // Idempotent: the execution name is the order id. If this fails the order stays written (never
  // deleted: a concurrent retry may already have started its workflow) and the caller gets an
  // error; its retry, or the reconciler's sweep of orders left RECEIVED, starts the workflow.
  await workflow.start(orderId);
  // Also on a repeat: the first attempt may have failed to announce it (consumers are idempotent).
  try {
    await events.publish('OrderReceived', {
      orderId,
      customerId: order.customerId,
      status: order.status,
      channel: order.channel,
      currency: order.currency,
      createdAt: order.createdAt,
      at: order.createdAt,
    });
  } catch (error) {
    // The order and its workflow exist; a lost announcement must not make the caller retry.
    logger.error('Could not publish OrderReceived', { orderId, error: (error as Error).name });
  }
  logger.info('Order captured', { orderId, channel: command.channel, created });
  return { orderId, status: 'RECEIVED' };
}

const idempotentCapture = makeIdempotent(capture, {
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: requireEnv('IDEMPOTENCY_TABLE_NAME') }),
  config,
});

export async function captureOrder(command: IntakeCommand, context: Context): Promise<IntakeResult> {
  config.registerLambdaContext(context);
  return idempotentCapture(command);
}
