import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { OrderCancelled, OrderClosed, OrderNotFound, ShipmentNotFound } from '../core/errors.ts';
import type { StageName } from '../core/events.ts';
import { isTerminal, statusRank } from '../core/order.ts';
import {
  advance,
  dayOf,
  PAGE_BUDGET,
  type SearchKey,
  type SearchPlan,
  type SearchPosition,
} from '../core/order-search.ts';
import {
  type Cancellation,
  type Order,
  type OrderFeedback,
  type OrderStatus,
  type Shipment,
  TERMINAL_STATUSES,
} from '../core/schemas.ts';
import { SHIPMENT_FACT_TIME, type ShipmentFactTime } from '../core/shipment.ts';
import { documents } from './clients/dynamodb.ts';
import { sendOnce } from './send-claims.ts';

/**
 * Orders table: partition `orderId`, sort `sk`.
 *  - `ORDER`: the order (everything but its shipments)
 *  - `RESERVATION`: the stock it holds (written with the stock, see catalog-repository)
 *  - `SHIPMENT#<id>`: one per shipment, with the carrier's tracking number (GSI byTrackingNumber)
 *    and the task token of the workflow waiting for its delivery.
 *  An order waiting for an approver names its approval (`approval`); the approval request itself,
 *  with its task token, is in the approvals table (approvals-repository).
 *  Only the order item carries `placedAt` (= createdAt, as stored: UTC, milliseconds) and `placedDay`
 *  (its UTC day), written once at creation: the sort and day keys of the search indexes (search below).
 */
export const ORDER_SK = 'ORDER';
/** The order item's marker of the survey e-mail (its send claim is `feedbackRequestedAtClaim`). */
const FEEDBACK_MARKER = 'feedbackRequestedAt';
export const RESERVATION_SK = 'RESERVATION';
const SHIPMENT_PREFIX = 'SHIPMENT#';
export const TRACKING_INDEX = 'byTrackingNumber';
/**
 * Sparse index of the orders still in progress: `openOrder` is set when an order is written and
 * removed when it reaches a terminal status, so the reconciler's sweep reads only open orders,
 * oldest first, without a Scan.
 */
export const OPEN_ORDERS_INDEX = 'openOrders';
const OPEN = 'OPEN';
/**
 * Sparse index of the survey answers whose FeedbackReceived is not yet published: `feedbackUnpublished`
 * and `feedbackAnsweredAt` are set with the answer and removed when it is marked published, so the
 * sweep publishes answers a failed request left behind, oldest first, without a Scan.
 */
export const UNPUBLISHED_FEEDBACK_INDEX = 'unpublishedFeedback';
const UNPUBLISHED = 'UNPUBLISHED';
/** The search indexes' partition attribute (their sort key is `placedAt`): core/order-search.ts. */
const SEARCH_PARTITION = { byCustomer: 'customerId', byStatus: 'status', byDay: 'placedDay' } as const;

/** An order as the search indexes project it (INCLUDE): what GET /orders lists. */
export type OrderSummaryRecord = Pick<
  Order,
  | 'orderId'
  | 'status'
  | 'customerId'
  | 'channel'
  | 'externalReference'
  | 'currency'
  | 'totals'
  | 'createdAt'
  | 'updatedAt'
>;

type StoredOrder = Omit<Order, 'shipments'>;

/** The order exists and has no terminal status (with `#status` and `closedValues` in the request). */
const closedValues = Object.fromEntries(TERMINAL_STATUSES.map((status, i) => [`:closed${i}`, status]));
const NOT_CLOSED = `attribute_exists(orderId) AND NOT #status IN (${Object.keys(closedValues).join(', ')})`;
/**
 * The order is open, no reconciler is compensating it and nobody cancelled it: what a forward step
 * checks, in the same write, before acting outside.
 */
const OPEN_AND_NOT_CLOSING = `${NOT_CLOSED} AND attribute_not_exists(closing) AND attribute_not_exists(cancellation)`;
/** Why a fenced write was refused: OrderCancelled when the order was cancelled, else OrderClosed. */
function refusal(orderId: string, current: Record<string, unknown>): Error {
  if (isTerminal(current.status as OrderStatus)) return new OrderClosed(orderId, String(current.status));
  if (current.cancellation) return new OrderCancelled(orderId);
  return new OrderClosed(orderId, 'being closed');
}
export interface ShipmentRecord extends Shipment {
  orderId: string;
  taskToken?: string;
  /** The shipment's invoice as the order lists it (joined into `order.invoices` on read). */
  invoiceTotal?: number;
  invoicePdfKey?: string;
}

export class OrdersRepository {
  constructor(private readonly tableName: string) {}

  /** Writes a new order; false when an order with that id already exists. */
  async create(order: Order): Promise<boolean> {
    const { shipments: _shipments, ...stored } = order;
    try {
      await documents().send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...stored, sk: ORDER_SK, openOrder: OPEN, statusRank: statusRank(stored.status), ...placed(stored) },
          ConditionExpression: 'attribute_not_exists(orderId)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async find(orderId: string): Promise<Order | undefined> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents().send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'orderId = :id',
          ExpressionAttributeValues: { ':id': orderId },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const order = items.find((item) => item.sk === ORDER_SK);
    if (!order) return undefined;
    const records = items
      .filter((item) => String(item.sk).startsWith(SHIPMENT_PREFIX))
      .map((item) => item as unknown as ShipmentRecord)
      .sort((a, b) => a.shipmentId.localeCompare(b.shipmentId, 'en', { numeric: true }));
    const invoices = records
      .filter((r) => r.invoiceNumber && r.invoicePdfKey !== undefined)
      .map((r) => ({
        number: String(r.invoiceNumber),
        shipmentId: r.shipmentId,
        total: Number(r.invoiceTotal ?? 0),
        pdfKey: String(r.invoicePdfKey),
      }))
      .sort((a, b) => a.number.localeCompare(b.number));
    return { ...withoutKey(order), shipments: records.map(toShipment), invoices };
  }

  async get(orderId: string): Promise<Order> {
    const order = await this.find(orderId);
    if (!order) throw new OrderNotFound(orderId);
    return order;
  }

  /**
   * The order side of a credit hold (CreditLedger composes it with the customer's creditUsed in one
   * transaction): `creditHold` set once, and not after a release — a validation still in flight when
   * its workflow was stopped takes nothing.
   */
  creditHoldItem(orderId: string, amount: number) {
    return {
      Update: {
        TableName: this.tableName,
        Key: { orderId, sk: ORDER_SK },
        UpdateExpression: 'SET creditHold = :amount',
        ConditionExpression:
          'attribute_exists(orderId) AND attribute_not_exists(creditHold) AND attribute_not_exists(creditReleased)',
        ExpressionAttributeValues: { ':amount': amount },
      },
    };
  }

  /** The order side of giving a hold back: only the hold of exactly `amount`, marked released. */
  creditReleaseItem(orderId: string, amount: number) {
    return {
      Update: {
        TableName: this.tableName,
        Key: { orderId, sk: ORDER_SK },
        UpdateExpression: 'REMOVE creditHold SET creditReleased = :yes',
        ConditionExpression: 'creditHold = :amount',
        ExpressionAttributeValues: { ':amount': amount, ':yes': true },
      },
    };
  }

  /** Invoicing took the hold over (the invoice's open balance): the order no longer holds it. */
  creditHoldInvoicedItem(orderId: string, amount: number) {
    return {
      Update: {
        TableName: this.tableName,
        Key: { orderId, sk: ORDER_SK },
        UpdateExpression: 'SET creditHold = creditHold - :amount',
        ConditionExpression: 'creditHold >= :amount',
        ExpressionAttributeValues: { ':amount': amount },
      },
    };
  }

  /**
   * Marks an order that holds no credit as released, so a late hold is refused. Answers 'released', or
   * the hold the order has (its customer and amount; the refused write returns the item), or undefined
   * without the order.
   */
  async markCreditReleased(orderId: string): Promise<'released' | { customerId: string; amount: number } | undefined> {
    try {
      await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { orderId, sk: ORDER_SK },
          UpdateExpression: 'SET creditReleased = :yes',
          ConditionExpression: 'attribute_exists(orderId) AND attribute_not_exists(creditHold)',
          ExpressionAttributeValues: { ':yes': true },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'released';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (!error.Item) return undefined;
      const order = unmarshall(error.Item);
      return { customerId: String(order.customerId), amount: Number(order.creditHold) };
    }
  }

  /**
   * Records that the order reached a stage, with the status and fields that go with it — once:
   * a stage already recorded (a retried task, a repeated carrier event) changes nothing, so the
   * timeline shows it once. The status never moves backwards: a stage that arrives after a later
   * one (a late carrier scan) is recorded without its status. A closed order (terminal status)
   * accepts no new stage: late news cannot reopen it (OrderClosed).
   * Returns the order as stored afterwards (without shipments) and whether this call recorded it.
   */
  async recordStage(
    orderId: string,
    stage: StageName,
    at: Date,
    changes: {
      status?: OrderStatus;
      set?: Record<string, unknown>;
      /** Fields written only where the order has none yet (what was recorded first stays). */
      keep?: Record<string, unknown>;
      whileOpen?: boolean;
      notCancelled?: boolean;
      /** With whileOpen: a step after its shipment was booked (booked counts as shipped), not refused by a cancellation. */
      booked?: boolean;
    } = {},
  ): Promise<{ order: StoredOrder; recorded: boolean }> {
    const names: Record<string, string> = {
      '#stages': 'stages',
      '#stage': stage,
      '#updatedAt': 'updatedAt',
      '#status': 'status',
    };
    const values: Record<string, unknown> = { ':at': at.toISOString(), ...closedValues };
    const assignments = ['#stages.#stage = :at', '#updatedAt = :at'];
    const removals: string[] = [];
    const conditions = [NOT_CLOSED, 'attribute_not_exists(#stages.#stage)'];
    // A forward step's stage (after an external effect) is refused once a reconciler fenced the order
    // or someone cancelled it.
    if (changes.whileOpen) conditions.push('attribute_not_exists(closing)');
    const fenced = (changes.whileOpen && !changes.booked) || changes.notCancelled;
    if (fenced) conditions.push('attribute_not_exists(cancellation)');
    if (changes.status) {
      values[':newStatus'] = changes.status;
      values[':rank'] = statusRank(changes.status);
      names['#rank'] = 'statusRank';
      assignments.push('#status = :newStatus', '#rank = :rank');
      conditions.push('(attribute_not_exists(#rank) OR #rank < :rank)');
      if (isTerminal(changes.status)) removals.push('openOrder');
    }
    Object.entries(changes.set ?? {}).forEach(([field, value], index) => {
      names[`#f${index}`] = field;
      values[`:v${index}`] = value;
      assignments.push(`#f${index} = :v${index}`);
    });
    Object.entries(changes.keep ?? {}).forEach(([field, value], index) => {
      names[`#k${index}`] = field;
      values[`:k${index}`] = value;
      assignments.push(`#k${index} = if_not_exists(#k${index}, :k${index})`);
    });
    try {
      const result = await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { orderId, sk: ORDER_SK },
          UpdateExpression: `SET ${assignments.join(', ')}${removals.length ? ` REMOVE ${removals.join(', ')}` : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { order: withoutKey(result.Attributes), recorded: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? unmarshall(error.Item) : undefined;
      if (!current) throw new OrderNotFound(orderId);
      if ((current.stages as Record<string, unknown> | undefined)?.[stage])
        return { order: withoutKey(current), recorded: false };
      if (isTerminal(current.status as OrderStatus)) throw new OrderClosed(orderId, String(current.status));
      if (fenced && current.cancellation) throw new OrderCancelled(orderId);
      if (changes.whileOpen && current.closing) throw new OrderClosed(orderId, 'being closed');
      // The order is already further along: record the stage, keep the status.
      return this.recordStage(orderId, stage, at, {
        set: changes.set,
        keep: changes.keep,
        whileOpen: changes.whileOpen,
        notCancelled: changes.notCancelled,
        booked: changes.booked,
      });
    }
  }

  /**
   * The order's side of an approval request, a write for the approvals repository's transaction:
   * the order names its approval (once) and its timeline gets ApprovalRequested, while it is open.
   */
  approvalRequested(orderId: string, approval: { approvalId: string; reasons: string[] }, at: Date) {
    return {
      Update: {
        TableName: this.tableName,
        Key: { orderId, sk: ORDER_SK },
        UpdateExpression: 'SET approval = :approval, #stages.#stage = :at, #updatedAt = :at',
        ConditionExpression: `${NOT_CLOSED} AND attribute_not_exists(approval) AND attribute_not_exists(cancellation)`,
        ExpressionAttributeNames: {
          '#status': 'status',
          '#stages': 'stages',
          '#stage': 'ApprovalRequested' satisfies StageName,
          '#updatedAt': 'updatedAt',
        },
        ExpressionAttributeValues: { ':approval': approval, ':at': at.toISOString(), ...closedValues },
      },
    };
  }

  /**
   * Records a payment intent (PENDING) before the provider is called, so compensation knows an
   * authorization may exist. Not a stage (no timeline entry, no event). Kept when one is already
   * recorded; refused on a closed order and on one a reconciler is closing (OrderClosed): then the
   * provider is never asked.
   */
  async recordPaymentIntent(orderId: string, record: Order['paymentRecord']): Promise<void> {
    try {
      await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { orderId, sk: ORDER_SK },
          UpdateExpression: 'SET paymentRecord = :record',
          ConditionExpression: `${OPEN_AND_NOT_CLOSING} AND attribute_not_exists(paymentRecord)`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':record': record, ...closedValues },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? unmarshall(error.Item) : undefined;
      if (!current) throw new OrderNotFound(orderId);
      if (isTerminal(current.status as OrderStatus) || current.closing || current.cancellation)
        throw refusal(orderId, current);
    }
  }

  /**
   * Records a cancellation (once) with its OrderCancellationRequested stage, in ONE conditional
   * write: the order is open, not cancelled yet, and — for a whole-order cancellation — not shipped
   * yet (a shipment recorded meanwhile moved it on). From this write on every forward step refuses.
   * Returns the order as stored afterwards, or as it is when refused (`recorded: false`).
   */
  async requestCancellation(
    orderId: string,
    cancellation: Cancellation,
  ): Promise<{ recorded: boolean; order: StoredOrder }> {
    const conditions = [NOT_CLOSED, 'attribute_not_exists(cancellation)', 'attribute_not_exists(closing)'];
    const values: Record<string, unknown> = {
      ':c': cancellation,
      ':at': cancellation.requestedAt,
      ...closedValues,
    };
    if (cancellation.kind === 'whole') {
      // Nothing booked yet: a booking recorded meanwhile (bookedAt) makes it a remainder cancellation.
      conditions.push('(attribute_not_exists(#rank) OR #rank < :shipped)', 'attribute_not_exists(bookedAt)');
      values[':shipped'] = statusRank('SHIPPED');
    }
    try {
      const result = await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { orderId, sk: ORDER_SK },
          UpdateExpression: 'SET cancellation = :c, #stages.#stage = :at, #updatedAt = :at',
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: {
            '#status': 'status',
            '#stages': 'stages',
            '#stage': 'OrderCancellationRequested' satisfies StageName,
            '#updatedAt': 'updatedAt',
            ...(cancellation.kind === 'whole' ? { '#rank': 'statusRank' } : {}),
          },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { recorded: true, order: withoutKey(result.Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (!error.Item) throw new OrderNotFound(orderId);
      return { recorded: false, order: withoutKey(unmarshall(error.Item)) };
    }
  }

  /**
   * The reconciler's fence, written before it compensates: sets `closing` (once) and counts this
   * attempt. Forward steps check `closing` atomically before acting outside (payment intent,
   * shipment booking), so a task still running after its execution was stopped re-creates nothing.
   * Returns the attempts so far, this one included, and when the first one fenced it; OrderClosed
   * on a closed order.
   */
  async fence(orderId: string, at: Date): Promise<{ attempts: number; closing: string }> {
    try {
      const result = await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { orderId, sk: ORDER_SK },
          UpdateExpression:
            'SET closing = if_not_exists(closing, :at), reconcileAttempts = if_not_exists(reconcileAttempts, :zero) + :one',
          ConditionExpression: NOT_CLOSED,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':at': at.toISOString(), ':zero': 0, ':one': 1, ...closedValues },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return {
        attempts: Number(result.Attributes?.reconcileAttempts ?? 1),
        closing: String(result.Attributes?.closing ?? at.toISOString()),
      };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? unmarshall(error.Item) : undefined;
      if (!current) throw new OrderNotFound(orderId);
      throw new OrderClosed(orderId, String(current.status));
    }
  }

  /**
   * Records a shipment before the carrier is asked (BOOKING, deterministic id), in one transaction
   * with the check that the order is open and not being closed: compensation then knows a booking
   * may exist and cancels it by its shipment id, and a fenced order books nothing (OrderClosed).
   * A retry keeps the record as it is.
   */
  async recordShipmentIntent(record: {
    orderId: string;
    shipmentId: string;
    carrier: string;
    allocationId: string;
    warehouseId: string;
    lines: Shipment['lines'];
    /** When the booking was recorded: the order's `bookedAt` (first booking), which a whole cancellation refuses. */
    at?: string;
  }): Promise<void> {
    const bookedAt = record.at ?? new Date().toISOString();
    await this.transactOnOpenOrder(
      record.orderId,
      {
        TableName: this.tableName,
        Key: { orderId: record.orderId, sk: `${SHIPMENT_PREFIX}${record.shipmentId}` },
        UpdateExpression:
          'SET #s = if_not_exists(#s, :booking), shipmentId = :id, carrier = :carrier, allocationId = :a, warehouseId = :w, #lines = :lines',
        ExpressionAttributeNames: { '#s': 'status', '#lines': 'lines' },
        ExpressionAttributeValues: {
          ':booking': 'BOOKING',
          ':id': record.shipmentId,
          ':carrier': record.carrier,
          ':a': record.allocationId,
          ':w': record.warehouseId,
          ':lines': record.lines,
        },
      },
      { bookedAt },
    );
  }

  /**
   * Records a shipment's partial capture, once: the shipment gets its capture id and amount and the
   * order's payment record its new captured total, in one transaction. A repeat changes nothing.
   * `at`: the capture's fact time (SHIPMENT_FACT_TIME) is kept with it and answered when this call
   * recorded the capture. A shipment gets its `capturedAt` only with or after its `captureId`, so
   * the transaction that writes the id is the one that writes the time.
   */
  async recordCapture(
    orderId: string,
    shipmentId: string,
    captureId: string,
    amount: number,
    at?: Date,
  ): Promise<string | undefined> {
    const time = at?.toISOString();
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: { orderId, sk: `${SHIPMENT_PREFIX}${shipmentId}` },
                UpdateExpression: `SET captureId = :c, capturedAmount = :amount${time ? ', #time = if_not_exists(#time, :at)' : ''}`,
                ConditionExpression: 'attribute_exists(orderId) AND attribute_not_exists(captureId)',
                ...(time ? { ExpressionAttributeNames: { '#time': SHIPMENT_FACT_TIME.OrderPaymentCaptured } } : {}),
                ExpressionAttributeValues: { ':c': captureId, ':amount': amount, ...(time ? { ':at': time } : {}) },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: { orderId, sk: ORDER_SK },
                UpdateExpression: 'SET paymentRecord.captured = if_not_exists(paymentRecord.captured, :zero) + :amount',
                ConditionExpression: 'attribute_exists(paymentRecord)',
                ExpressionAttributeValues: { ':zero': 0, ':amount': amount },
              },
            },
          ],
        }),
      );
      return time;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      if (error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
        if (await this.getShipment(orderId, shipmentId)) return undefined; // recorded by an earlier attempt
      }
      throw error;
    }
  }

  /** Settles the payment record: captured (what the shipments took, the rest voided) or voided. */
  async settlePayment(orderId: string, status: 'CAPTURED' | 'VOIDED', captured: number): Promise<void> {
    await documents().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { orderId, sk: ORDER_SK },
        UpdateExpression: 'SET paymentRecord.#s = :s, paymentRecord.captured = :c',
        ConditionExpression: 'attribute_exists(paymentRecord)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': status, ':c': captured },
      }),
    );
  }

  /**
   * Records the shipment's invoice (number, total, PDF): the order lists its invoices from these. Keeps
   * the time it was first recorded as the shipment's `invoicedAt` (SHIPMENT_FACT_TIME) and answers it.
   */
  async recordShipmentInvoice(
    orderId: string,
    shipmentId: string,
    invoice: { number: string; total: number; pdfKey: string },
    at: Date,
  ): Promise<string> {
    const result = await documents().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { orderId, sk: `${SHIPMENT_PREFIX}${shipmentId}` },
        UpdateExpression:
          'SET invoiceNumber = :n, invoiceTotal = :t, invoicePdfKey = :k, #time = if_not_exists(#time, :at)',
        ConditionExpression:
          'attribute_exists(orderId) AND (attribute_not_exists(invoiceNumber) OR invoiceNumber = :n)',
        ExpressionAttributeNames: { '#time': SHIPMENT_FACT_TIME.OrderInvoiced },
        ExpressionAttributeValues: {
          ':n': invoice.number,
          ':t': invoice.total,
          ':k': invoice.pdfKey,
          ':at': at.toISOString(),
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return keptTime(result.Attributes, SHIPMENT_FACT_TIME.OrderInvoiced, at);
  }

  /**
   * The carrier booked it: BOOKING becomes CREATED with the tracking number and `shippedAt`, if the order is still
   * open and not being closed and the shipment was not cancelled meanwhile; else OrderClosed (the
   * caller cancels the booking it just made).
   */
  async confirmShipment(orderId: string, shipmentId: string, trackingNumber: string, at: Date): Promise<void> {
    // Booked counts as shipped (core/cancellation.ts): a cancellation after the booking was recorded does not undo it.
    await this.transactOnOpenOrder(
      orderId,
      {
        TableName: this.tableName,
        Key: { orderId, sk: `${SHIPMENT_PREFIX}${shipmentId}` },
        // A repeat keeps the first booking's time.
        UpdateExpression: 'SET #s = :created, trackingNumber = :tracking, shippedAt = if_not_exists(shippedAt, :at)',
        ConditionExpression: '#s IN (:booking, :created)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':booking': 'BOOKING',
          ':created': 'CREATED',
          ':tracking': trackingNumber,
          ':at': at.toISOString(),
        },
      },
      { cancelledToo: true },
    );
  }

  private async transactOnOpenOrder(
    orderId: string,
    update: Record<string, unknown>,
    options: { cancelledToo?: boolean; bookedAt?: string } = {},
  ): Promise<void> {
    const check = {
      TableName: this.tableName,
      Key: { orderId, sk: ORDER_SK },
      ConditionExpression: options.cancelledToo
        ? `${NOT_CLOSED} AND attribute_not_exists(closing)`
        : OPEN_AND_NOT_CLOSING,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: closedValues,
    };
    // A booking also marks the order booked (once), in the same transaction: a whole-order
    // cancellation is refused from then on (requestCancellation), even before the stage is recorded.
    const orderItem = options.bookedAt
      ? {
          Update: {
            ...check,
            UpdateExpression: 'SET bookedAt = if_not_exists(bookedAt, :bookedAt)',
            ExpressionAttributeValues: { ...closedValues, ':bookedAt': options.bookedAt },
          },
        }
      : { ConditionCheck: check };
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [orderItem as never, { Update: update as never }],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      // A conflict is transient (the task's Retry); a failed condition means closed, closing or cancelled.
      if (!reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) throw error;
      const current = await this.find(orderId);
      throw current ? refusal(orderId, current) : new OrderClosed(orderId, 'being closed');
    }
  }

  /**
   * Open orders created before `cutoff`, oldest first, page by page (the reconciler's sweep walks
   * the whole sparse index, so orders waiting days for delivery never hide newer stuck ones).
   */
  async *openOrdersCreatedBefore(cutoff: Date, pageSize: number): AsyncGenerator<string[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents().send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: OPEN_ORDERS_INDEX,
          KeyConditionExpression: 'openOrder = :open AND createdAt < :cutoff',
          ExpressionAttributeValues: { ':open': OPEN, ':cutoff': cutoff.toISOString() },
          Limit: pageSize,
          ExclusiveStartKey: startKey,
        }),
      );
      const ids = (page.Items ?? []).map((item) => String(item.orderId));
      if (ids.length > 0) yield ids;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * One page of an order search (core/order-search.ts plans it): queries the plan's index newest first,
   * the filters not in its key as a FilterExpression, page after page (and day after day) until `limit`
   * orders or the end of the window — or the page budget, so a rare filter never reads unbounded.
   * `next` is where the following page starts (none: the search is complete).
   */
  async search(
    plan: SearchPlan,
    limit: number,
    budget: { queries: number; items: number } = PAGE_BUDGET,
  ): Promise<{ orders: OrderSummaryRecord[]; next?: SearchPosition }> {
    const partitionAttribute = SEARCH_PARTITION[plan.index];
    const names: Record<string, string> = { '#pk': partitionAttribute, '#placedAt': 'placedAt' };
    const values: Record<string, unknown> = { ':to': plan.window.to };
    const range = plan.window.from === null ? '#placedAt <= :to' : '#placedAt BETWEEN :from AND :to';
    if (plan.window.from !== null) values[':from'] = plan.window.from;
    const filters: string[] = [];
    if (plan.filters.status !== undefined && plan.index !== 'byStatus') {
      names['#status'] = 'status';
      values[':status'] = plan.filters.status;
      filters.push('#status = :status');
    }
    if (plan.filters.channel !== undefined) {
      names['#channel'] = 'channel';
      values[':channel'] = plan.filters.channel;
      filters.push('#channel = :channel');
    }
    const orders: OrderSummaryRecord[] = [];
    let position: SearchPosition | undefined = plan.start;
    let queries = 0;
    let read = 0;
    while (position && orders.length < limit && queries < budget.queries && read < budget.items) {
      const room = limit - orders.length;
      const partition =
        plan.index === 'byDay'
          ? position.day
          : plan.index === 'byCustomer'
            ? plan.filters.customerId
            : plan.filters.status;
      const page = await documents().send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: plan.index,
          KeyConditionExpression: `#pk = :pk AND ${range}`,
          ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':pk': partition },
          ScanIndexForward: false,
          // Filtered: read ahead (what matches past the page's room is read again next page); else exactly the room.
          Limit: filters.length ? Math.min(Math.max(room, 100), budget.items - read) : room,
          ...(position.after
            ? {
                ExclusiveStartKey: {
                  orderId: position.after.orderId,
                  sk: ORDER_SK,
                  [partitionAttribute]: partition,
                  placedAt: position.after.placedAt,
                },
              }
            : {}),
        }),
      );
      queries++;
      read += page.ScannedCount ?? 0;
      const items = page.Items ?? [];
      const step = advance(
        plan,
        position,
        {
          keys: items.map(searchKey),
          ...(page.LastEvaluatedKey ? { lastEvaluated: searchKey(page.LastEvaluatedKey) } : {}),
        },
        room,
      );
      orders.push(...items.slice(0, step.take).map(summaryRecord));
      position = step.next;
    }
    return { orders, ...(position ? { next: position } : {}) };
  }

  async getShipment(orderId: string, shipmentId: string): Promise<ShipmentRecord | undefined> {
    const result = await documents().send(
      new GetCommand({
        TableName: this.tableName,
        Key: { orderId, sk: `${SHIPMENT_PREFIX}${shipmentId}` },
        ConsistentRead: true,
      }),
    );
    return result.Item as ShipmentRecord | undefined;
  }

  /**
   * Updates a shipment. A final status (DELIVERED, LOST, CANCELLED) is never overwritten: an update that
   * would change it leaves the record as it is and returns it. ShipmentNotFound when there is no such shipment.
   */
  async updateShipment(
    orderId: string,
    shipmentId: string,
    changes: { status?: Shipment['status']; taskToken?: string | null; deliveredAt?: string },
  ): Promise<ShipmentRecord> {
    const sets: string[] = [];
    const removes: string[] = [];
    const values: Record<string, unknown> = {};
    if (changes.status) {
      sets.push('#status = :status');
      values[':status'] = changes.status;
    }
    if (changes.deliveredAt) {
      // With the DELIVERED status, which is final: the first report's time is the one kept.
      sets.push('deliveredAt = if_not_exists(deliveredAt, :deliveredAt)');
      values[':deliveredAt'] = changes.deliveredAt;
    }
    if (changes.taskToken === null) removes.push('taskToken');
    else if (changes.taskToken !== undefined) {
      sets.push('taskToken = :token');
      values[':token'] = changes.taskToken;
    }
    const expression = [
      sets.length ? `SET ${sets.join(', ')}` : '',
      removes.length ? `REMOVE ${removes.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    if (changes.status) {
      values[':delivered'] = 'DELIVERED';
      values[':lost'] = 'LOST';
      values[':cancelled'] = 'CANCELLED';
    }
    try {
      const result = await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { orderId, sk: `${SHIPMENT_PREFIX}${shipmentId}` },
          UpdateExpression: expression,
          ConditionExpression: changes.status
            ? 'attribute_exists(orderId) AND NOT #status IN (:delivered, :lost, :cancelled)'
            : 'attribute_exists(orderId)',
          ...(changes.status ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return result.Attributes as ShipmentRecord;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (!error.Item) throw new ShipmentNotFound(orderId, shipmentId);
      return unmarshall(error.Item) as ShipmentRecord;
    }
  }

  /**
   * The time of a per-shipment fact (shipped, captured, invoiced), kept on the shipment: the first
   * recorded stays and is returned, so every publish of that fact carries the same time.
   */
  async shipmentFactTime(orderId: string, shipmentId: string, field: ShipmentFactTime, at: Date): Promise<string> {
    const result = await documents().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { orderId, sk: `${SHIPMENT_PREFIX}${shipmentId}` },
        UpdateExpression: 'SET #time = if_not_exists(#time, :at)',
        ConditionExpression: 'attribute_exists(orderId)',
        ExpressionAttributeNames: { '#time': field },
        ExpressionAttributeValues: { ':at': at.toISOString() },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return keptTime(result.Attributes, field, at);
  }

  /**
   * The shipment a tracking number names: its order and shipment ids, from the tracking-number index
   * (keys only, eventually consistent). Writes to the shipment check that it exists (updateShipment).
   */
  async shipmentByTracking(trackingNumber: string): Promise<{ orderId: string; shipmentId: string } | undefined> {
    const result = await documents().send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: TRACKING_INDEX,
        KeyConditionExpression: 'trackingNumber = :t',
        ExpressionAttributeValues: { ':t': trackingNumber },
        Limit: 1,
      }),
    );
    const key = result.Items?.[0];
    if (!key) return undefined;
    return { orderId: String(key.orderId), shipmentId: String(key.sk).slice(SHIPMENT_PREFIX.length) };
  }

  /**
   * Sends the order's survey e-mail once (see send-claims.ts): `feedbackRequestedAt` marks it sent.
   * Returns when it was marked sent, or undefined if it had been sent already.
   */
  requestFeedbackOnce(orderId: string, clock: () => Date, send: () => Promise<unknown>): Promise<Date | undefined> {
    return sendOnce(
      { tableName: this.tableName, key: { orderId, sk: ORDER_SK }, marker: FEEDBACK_MARKER },
      clock,
      send,
    );
  }

  /**
   * Records the customer's survey answer, once per order (whatever its status: the survey comes
   * after delivery, often after completion), with its timeline entry. Returns the order's customer
   * and, when an answer was stored before, that answer (nothing written then). OrderNotFound without the order.
   */
  async recordFeedback(
    orderId: string,
    feedback: OrderFeedback,
  ): Promise<
    | { customerId: string; createdAt: string; recorded: true }
    | { customerId: string; createdAt: string; recorded: false; stored: OrderFeedback }
  > {
    try {
      const result = await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { orderId, sk: ORDER_SK },
          UpdateExpression:
            'SET feedback = :feedback, #stages.#stage = :at, #updatedAt = :at, feedbackUnpublished = :unpublished, feedbackAnsweredAt = :at',
          ConditionExpression: 'attribute_exists(orderId) AND attribute_not_exists(feedback)',
          ExpressionAttributeNames: {
            '#stages': 'stages',
            '#stage': 'FeedbackReceived' satisfies StageName,
            '#updatedAt': 'updatedAt',
          },
          ExpressionAttributeValues: { ':feedback': feedback, ':at': feedback.answeredAt, ':unpublished': UNPUBLISHED },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const stored = result.Attributes ?? {};
      return { customerId: String(stored.customerId), createdAt: String(stored.createdAt), recorded: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = error.Item ? unmarshall(error.Item) : undefined;
      if (!current) throw new OrderNotFound(orderId);
      return {
        customerId: String(current.customerId),
        createdAt: String(current.createdAt),
        recorded: false,
        stored: current.feedback as OrderFeedback,
      };
    }
  }

  /** The answer's FeedbackReceived event went out: it leaves the unpublished index. */
  async markFeedbackPublished(orderId: string, at: Date): Promise<void> {
    try {
      await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { orderId, sk: ORDER_SK },
          UpdateExpression: 'SET feedback.publishedAt = :at REMOVE feedbackUnpublished, feedbackAnsweredAt',
          ConditionExpression: 'attribute_exists(feedback) AND attribute_not_exists(feedback.publishedAt)',
          ExpressionAttributeValues: { ':at': at.toISOString() },
        }),
      );
    } catch (error) {
      // Marked by a concurrent retry of the same answer: it stays as that one wrote it.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * The order's customer and the survey answer stored for it, if any (a consistent read); OrderNotFound
   * without the order.
   */
  async feedbackOf(orderId: string): Promise<{ customerId: string; createdAt: string; feedback?: OrderFeedback }> {
    const { Item } = await documents().send(
      new GetCommand({
        TableName: this.tableName,
        Key: { orderId, sk: ORDER_SK },
        ConsistentRead: true,
        ProjectionExpression: 'orderId, customerId, createdAt, feedback',
      }),
    );
    if (!Item) throw new OrderNotFound(orderId);
    return {
      customerId: String(Item.customerId),
      createdAt: String(Item.createdAt),
      feedback: Item.feedback as OrderFeedback | undefined,
    };
  }

  /**
   * Survey answers recorded before `cutoff` whose FeedbackReceived is still unpublished (the request
   * failed after writing them), oldest first, at most `limit`. From the sparse index: eventually
   * consistent, so an answer marked published a moment ago may still be listed (publishing is idempotent).
   */
  async unpublishedFeedbackBefore(
    cutoff: Date,
    limit: number,
  ): Promise<{ orderId: string; customerId: string; createdAt: string; feedback: OrderFeedback }[]> {
    const page = await documents().send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: UNPUBLISHED_FEEDBACK_INDEX,
        KeyConditionExpression: 'feedbackUnpublished = :unpublished AND feedbackAnsweredAt < :cutoff',
        ExpressionAttributeValues: { ':unpublished': UNPUBLISHED, ':cutoff': cutoff.toISOString() },
        Limit: limit,
      }),
    );
    return (page.Items ?? []).map((item) => ({
      orderId: String(item.orderId),
      customerId: String(item.customerId),
      createdAt: String(item.createdAt),
      feedback: item.feedback as OrderFeedback,
    }));
  }
}

/** The order without its storage attributes (key, index and rank bookkeeping). */
function withoutKey(item: Record<string, unknown> | undefined): StoredOrder {
  const {
    sk: _sk,
    openOrder: _open,
    statusRank: _rank,
    reconcileAttempts: _attempts,
    placedAt: _placedAt,
    placedDay: _placedDay,
    feedbackRequestedAtClaim: _feedbackClaim,
    feedbackUnpublished: _unpublished,
    feedbackAnsweredAt: _answeredAt,
    ...order
  } = item ?? {};
  return order as StoredOrder;
}

/** The search indexes' keys of a new order: its creation instant as stored (UTC, ms) and its UTC day. */
function placed(order: Pick<Order, 'createdAt'>): { placedAt: string; placedDay: string } {
  const placedAt = new Date(order.createdAt).toISOString();
  return { placedAt, placedDay: dayOf(placedAt) };
}

const searchKey = (item: Record<string, unknown>): SearchKey => ({
  placedAt: String(item.placedAt),
  orderId: String(item.orderId),
});

function summaryRecord(item: Record<string, unknown>): OrderSummaryRecord {
  const { orderId, status, customerId, channel, externalReference, currency, totals, createdAt, updatedAt } =
    item as OrderSummaryRecord;
  return {
    orderId,
    status,
    customerId,
    channel,
    ...(externalReference !== undefined ? { externalReference } : {}),
    currency,
    ...(totals !== undefined ? { totals } : {}),
    createdAt,
    updatedAt,
  };
}

function toShipment(record: ShipmentRecord): Shipment {
  return {
    shipmentId: record.shipmentId,
    carrier: record.carrier,
    trackingNumber: record.trackingNumber,
    status: record.status,
    allocationId: record.allocationId,
    warehouseId: record.warehouseId,
    lines: record.lines ?? [],
    ...(record.shippedAt ? { shippedAt: record.shippedAt } : {}),
    ...(record.invoiceNumber ? { invoiceNumber: record.invoiceNumber } : {}),
    ...(record.captureId ? { captureId: record.captureId, capturedAmount: record.capturedAmount } : {}),
    ...Object.fromEntries(
      (['shippedAt', 'capturedAt', 'invoicedAt', 'deliveredAt'] as const)
        .filter((field) => record[field] !== undefined)
        .map((field) => [field, record[field]]),
    ),
  };
}

/** A fact time an `if_not_exists` write answered (UPDATED_NEW): the one kept, else the one just written. */
function keptTime(attributes: Record<string, unknown> | undefined, field: ShipmentFactTime, at: Date): string {
  const stored = attributes?.[field];
  return typeof stored === 'string' ? stored : at.toISOString();
}
