import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import { dealEntry, isWonStage } from '../core/crm.ts';
import { IdempotencyKeyReused } from '../core/errors.ts';
import { CrmDealEvent, CrmWonDealEvent } from '../core/schemas.ts';
import { requireEnv } from './config.ts';
import { customersRepository } from './deps.ts';
import { HttpError, parseOr400 } from './http.ts';
import { intakeRefusal } from './intake.ts';
import { enterOrder } from './order-entry.ts';
import { logger } from './powertools.ts';

/**
 * How long a CRM event's answer is remembered: the CRM retries a delivery for up to 3 days. The won deal's
 * order stays bound to the event id beyond that (the intake's key, kept by the order for good).
 */
export const CRM_EVENT_RETENTION_SECONDS = 7 * 24 * 60 * 60;

/** Who places CRM orders: the CRM integration, one client (its event ids are the keys). */
export const CRM_PRINCIPAL = { kind: 'client', id: 'crm' } as const;

/** A signed delivery, checked: the event as received (compared on a repeat) and as read. */
export type DealDelivery =
  | { eventId: string; body: unknown; won: false; event: CrmDealEvent }
  | { eventId: string; body: unknown; won: true; event: CrmWonDealEvent };

export type DealOutcome =
  | { eventId: string; ignored: true; reason: string }
  | { eventId: string; orderId: string; status: 'RECEIVED' };

/**
 * Reads a CRM deal event: every event needs its id, time, deal id and stage; only a won deal is read
 * further (an open deal may have no line items yet). Answers 400 naming every field that is wrong.
 */
export function dealDelivery(body: unknown): DealDelivery {
  const event = parseOr400(CrmDealEvent, body, 'CRM deal event');
  if (!isWonStage(event.deal.stage)) return { eventId: event.eventId, body, won: false, event };
  return { eventId: event.eventId, body, won: true, event: parseOr400(CrmWonDealEvent, body, 'won deal') };
}

const customers = customersRepository();

/** The customer a deal's company is: by its CRM company id, else by its ordering e-mail address. */
async function customerOf(company: CrmWonDealEvent['deal']['company']) {
  const byCrmId = await customers.findByCrmCompany(company.externalId);
  if (byCrmId) return byCrmId;
  const byEmail = company.email ? await customers.findByEmail(company.email) : undefined;
  if (byEmail) return byEmail;
  throw new HttpError(
    422,
    'UnknownCompany',
    `No customer matches CRM company ${company.externalId}: link the company to a customer (CRM company id) or use the customer's ordering e-mail address`,
    [
      { path: 'deal.company.externalId', message: "is no customer's CRM company id" },
      {
        path: 'deal.company.email',
        message: company.email ? "is no customer's ordering e-mail address" : 'is missing',
      },
    ],
  );
}

async function receive(delivery: DealDelivery, _context: Context): Promise<DealOutcome> {
  const { eventId, event } = delivery;
  if (!delivery.won) {
    // The idempotency record is the record of the event; the log line names it, without personal data.
    logger.info('CRM deal event ignored', { eventId, dealId: event.deal.id, stage: event.deal.stage });
    return { eventId, ignored: true, reason: 'only deals in stage closedwon create orders' };
  }
  const { deal } = delivery.event;
  const customer = await customerOf(deal.company);
  const { orderId, status } = await enterOrder({
    channel: 'crm',
    idempotencyKey: eventId,
    entry: dealEntry(deal, customer.customerId),
    placedBy: CRM_PRINCIPAL,
  });
  logger.info('CRM deal won', { eventId, dealId: deal.id, orderId });
  return { eventId, orderId, status };
}

/**
 * One answer per CRM event id, whatever its stage: a repeat of the same event (the CRM retries, a
 * replayed request) gets the first answer, the same id with another body IdempotencyValidationError,
 * and one still being handled IdempotencyAlreadyInProgressError. A refusal (unknown company, invalid
 * order) is not remembered, so the CRM's retry after the data was fixed goes through. The won deal's
 * capture is idempotent by itself too (the intake, keyed by the event id).
 */
export const receiveDeal = makeIdempotent(receive, {
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: requireEnv('IDEMPOTENCY_TABLE_NAME') }),
  config: new IdempotencyConfig({
    eventKeyJmesPath: 'eventId',
    payloadValidationJmesPath: 'body',
    expiresAfterSeconds: CRM_EVENT_RETENTION_SECONDS,
  }),
});

/**
 * A CRM delivery's refusals as HTTP answers: its event id with another body (422, whether the event's
 * record or the order bound to the id noticed) or a delivery of the same event still being handled
 * (409, retry shortly).
 */
export function dealRefusal(error: unknown): HttpError | undefined {
  if (error instanceof IdempotencyValidationError) return intakeRefusal(new IdempotencyKeyReused(), 'eventId');
  if (error instanceof IdempotencyAlreadyInProgressError) {
    return new HttpError(409, 'RequestInProgress', 'An order with this eventId is still being captured; retry shortly');
  }
  return intakeRefusal(error, 'eventId');
}
