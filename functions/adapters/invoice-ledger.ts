import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidCursor, PaymentRefused } from '../core/errors.ts';
import { applyCredit, applyPayment } from '../core/invoicing.ts';
import type { CreditNote, InvoiceStatus, PaymentRequest } from '../core/schemas.ts';
import { backoff } from './backoff.ts';
import { documents } from './clients/dynamodb.ts';
import {
  creditNoteFinishing,
  type InvoicesRepository,
  OPEN_INDEX,
  PENDING_INDEX,
  SERIES,
  STATUS_INDEX,
  type StoredInvoice,
  type TransactItem,
} from './invoices-repository.ts';
import { sendOnce } from './send-claims.ts';

/** A credit note as requested, before its number: the refund and the numbering are keyed by `requestId`. */
export interface CreditNoteRequestRecord {
  requestId: string;
  year: number;
  draft: Omit<CreditNote, 'creditNoteNumber'>;
  refundId?: string;
  creditNoteNumber?: string;
  /** The body the request was made with (a hash): the same request id with another body is refused. */
  fingerprint?: string;
}

/** The e-mails sent about a document, each recorded by the time it went out. */
export type DeliveryMarker = 'emailedAt' | 'financeCopiedAt' | 'receiptSentAt';

/** Optimistic updates of one invoice give way to each other this many times before giving up (transient). */
const ATTEMPTS = 12;

/**
 * What happens to an invoice after it is issued: credit notes taking amounts back, payments on
 * account, the overdue sweep and listings. Every change to an invoice goes in one transaction with
 * what it moves (the credit-note request, the payment record, the customer's balance), conditioned
 * on the invoice as read, so concurrent changes never lose one another.
 */
export class InvoiceLedger {
  constructor(
    private readonly invoices: InvoicesRepository,
    private readonly invoicesTable: string,
    private readonly customersTable?: string,
  ) {}

  /**
   * Records a credit-note request once: the request (queued for its number), the invoice's credited
   * amounts and status, and on account the customer's open balance and credit in use, together.
   * `make` computes the lines from the invoice as read (it throws CreditNoteRefused over the limit).
   * A repeated request (same id) returns the recorded one.
   */
  async requestCreditNote(
    invoiceNumber: string,
    requestId: string,
    year: number,
    make: (invoice: StoredInvoice) => Omit<CreditNote, 'creditNoteNumber'>,
    fingerprint?: string,
  ): Promise<CreditNoteRequestRecord> {
    const requestPk = SERIES.CN.request(requestId);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const recorded = await this.get(requestPk);
      if (recorded) return recordOf(recorded);
      const invoice = await this.invoices.findInvoice(invoiceNumber);
      if (!invoice) throw new Error(`Invoice ${invoiceNumber} does not exist`);
      const draft = make(invoice);
      const after = applyCredit(invoice, draft);
      // A card note waits for its refund before it may be numbered (markRefunded queues it then),
      // so no lease holder numbers a note whose money never went back.
      const queued = this.invoices.requestItem('CN', requestId, draft, year);
      const item = {
        ...queued,
        ...(draft.settlement === 'refund' ? { pendingYear: refundPending(year) } : {}),
        ...(fingerprint ? { fingerprint } : {}),
      };
      const items: TransactItem[] = [
        {
          Put: {
            TableName: this.invoicesTable,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        this.invoiceUpdate(invoice, {
          set: { amountCredited: after.amountCredited, creditedLines: after.creditedLines },
          status: after.status,
        }),
      ];
      if (invoice.paymentMethod === 'on_account')
        items.push(this.balanceChange(invoice.customerId, -draft.totals.total));
      try {
        await documents().send(new TransactWriteCommand({ TransactItems: items }));
        return { requestId, year, draft, ...(fingerprint ? { fingerprint } : {}) };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        await backoff(attempt, 10, 200); // the request appeared or the invoice changed meanwhile: read again
      }
    }
    throw new Error(`Invoice ${invoiceNumber} kept changing; try again`);
  }

  async creditNoteRequest(requestId: string): Promise<CreditNoteRequestRecord | undefined> {
    const item = await this.get(SERIES.CN.request(requestId));
    return item ? recordOf(item) : undefined;
  }

  /**
   * The card refund of a credit-note request went through: recorded on the request, which only now
   * joins its year's numbering queue. A request numbered already (before refunds were awaited) keeps
   * its number: the caller records the refund on the note.
   */
  async markRefunded(requestId: string, refundId: string, year: number): Promise<void> {
    try {
      await documents().send(
        new UpdateCommand({
          TableName: this.invoicesTable,
          Key: { pk: SERIES.CN.request(requestId) },
          UpdateExpression: 'SET refundId = :refund, pendingYear = :pending',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(creditNoteNumber)',
          ExpressionAttributeValues: { ':refund': refundId, ':pending': SERIES.CN.pending(year) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Credit-note requests not finished yet, oldest first in each queue: waiting for their refund or
   * for their number, or numbered but not delivered and published for `settleMs` (its caller left),
   * from the sparse pending index (this year's and last year's), never a scan. At most `perQueue`
   * of each queue: requests that keep failing at the head of one queue do not hide the others.
   */
  async unfinishedCreditNoteRequests(now: Date, perQueue = 50, settleMs = 2 * 60_000): Promise<string[]> {
    const ids: string[] = [];
    const year = now.getUTCFullYear();
    for (const y of [year - 1, year]) {
      for (const partition of [refundPending(y), SERIES.CN.pending(y), creditNoteFinishing(y)]) {
        // A note numbered a moment ago is still being delivered by its caller: not taken beside it.
        const settled = partition === creditNoteFinishing(y) ? new Date(now.getTime() - settleMs) : undefined;
        for (const item of await this.pendingItems(partition, perQueue, settled))
          if (typeof item.requestId === 'string') ids.push(item.requestId);
      }
    }
    return ids;
  }

  /**
   * Payments recorded longer than `settleMs` ago whose OrderPaymentReceived was not published (the
   * request failed or died after the payment committed, and nobody came back), oldest first, at most
   * `limit` per year, from the sparse pending index.
   */
  async unpublishedPayments(now: Date, limit = 50, settleMs = 2 * 60_000): Promise<RecordedPayment[]> {
    const settled = new Date(now.getTime() - settleMs);
    const year = now.getUTCFullYear();
    const found: RecordedPayment[] = [];
    for (const y of [year - 1, year])
      for (const item of await this.pendingItems(paymentUnpublished(y), limit, settled)) found.push(paymentOf(item));
    return found;
  }

  /** The payment's event was published: it leaves the pending index. */
  async markPaymentPublished(invoiceNumber: string, reference: string, at: Date): Promise<void> {
    await documents().send(
      new UpdateCommand({
        TableName: this.invoicesTable,
        Key: { pk: paymentPk(invoiceNumber, reference) },
        UpdateExpression: 'SET publishedAt = :at REMOVE pendingYear, requestedAt',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      }),
    );
  }

  /** Up to `cap` items of one partition of the pending index, oldest first (queued before `before`, if given). */
  private async pendingItems(partition: string, cap: number, before?: Date): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents().send(
        new QueryCommand({
          TableName: this.invoicesTable,
          IndexName: PENDING_INDEX,
          KeyConditionExpression: before ? 'pendingYear = :p AND requestedAt < :before' : 'pendingYear = :p',
          ExpressionAttributeValues: { ':p': partition, ...(before ? { ':before': before.toISOString() } : {}) },
          Limit: cap - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < cap);
    return items;
  }

  /**
   * Sends one of a document's e-mails once (see send-claims.ts `sendOnce`): when it was marked sent,
   * undefined if it had been; throws EmailSendInProgress while another caller holds it unsent.
   */
  sendOnce(
    series: 'INV' | 'CN',
    documentNumber: string,
    marker: DeliveryMarker,
    clock: () => Date,
    send: () => Promise<unknown>,
  ): Promise<Date | undefined> {
    const key = { pk: SERIES[series].document(documentNumber) };
    return sendOnce({ tableName: this.invoicesTable, key, marker }, clock, send);
  }

  /**
   * Records a payment on account once per reference: the payment, the invoice's paid amount and
   * status, the customer's open balance and credit in use, in one transaction. The same reference
   * again with the same amount is a replay (nothing changes); with another amount it is refused.
   * Returns the payment as recorded (a replay: the first one's `receivedAt`). The payment waits in the
   * pending index (recorded at `now`) until its event is published (markPaymentPublished).
   */
  async recordPayment(
    invoiceNumber: string,
    payment: PaymentRequest,
    now: Date = new Date(),
  ): Promise<{
    invoice: StoredInvoice;
    payment: PaymentRequest;
    paidInFull: boolean;
    replayed: boolean;
    /** Its OrderPaymentReceived was published (and recorded so) already. */
    published: boolean;
  }> {
    const pk = paymentPk(invoiceNumber, payment.reference);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const [recorded, invoice] = await Promise.all([this.get(pk), this.invoices.findInvoice(invoiceNumber)]);
      if (!invoice) throw new Error(`Invoice ${invoiceNumber} does not exist`);
      if (recorded) {
        if (recorded.amount !== payment.amount)
          throw new PaymentRefused(
            `Reference ${payment.reference} was recorded with another amount (${String(recorded.amount)})`,
            'reference_reused',
          );
        const stored = {
          amount: payment.amount,
          reference: payment.reference,
          receivedAt: typeof recorded.receivedAt === 'string' ? recorded.receivedAt : payment.receivedAt,
        };
        // Paid in full by this payment, as recorded with it (not by a credit note since).
        const published = recorded.pendingYear === undefined; // also a payment recorded before it was queued
        return { invoice, payment: stored, paidInFull: recorded.paidInFull === true, replayed: true, published };
      }
      const after = applyPayment(invoice, payment.amount);
      const items: TransactItem[] = [
        {
          Put: {
            TableName: this.invoicesTable,
            Item: {
              pk,
              invoiceNumber,
              orderId: invoice.orderId,
              ...payment,
              paidInFull: after.paidInFull,
              pendingYear: paymentUnpublished(now.getUTCFullYear()),
              requestedAt: `${now.toISOString()}#${pk}`,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        this.invoiceUpdate(invoice, { set: { amountPaid: after.amountPaid }, status: after.status }),
        this.balanceChange(invoice.customerId, -payment.amount),
      ];
      try {
        await documents().send(new TransactWriteCommand({ TransactItems: items }));
        return {
          invoice: { ...invoice, amountPaid: after.amountPaid, status: after.status },
          payment,
          paidInFull: after.paidInFull,
          replayed: false,
          published: false,
        };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        await backoff(attempt, 10, 200);
      }
    }
    throw new Error(`Invoice ${invoiceNumber} kept changing; try again`);
  }

  /**
   * Marks open invoices due before `now` overdue: read from the sparse open-invoices index (this
   * year's and last year's due dates), never a scan. Each is conditioned on still being open.
   */
  async markOverdue(now: Date): Promise<string[]> {
    const marked: string[] = [];
    const year = now.getUTCFullYear();
    for (const openYear of [String(year - 1), String(year)]) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await documents().send(
          new QueryCommand({
            TableName: this.invoicesTable,
            IndexName: OPEN_INDEX,
            KeyConditionExpression: 'openYear = :year AND dueDate < :now',
            ExpressionAttributeValues: { ':year': openYear, ':now': now.toISOString() },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          if (await this.markOneOverdue(String(item.pk), now)) marked.push(String(item.pk).slice('INVOICE#'.length));
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return marked;
  }

  private async markOneOverdue(pk: string, now: Date): Promise<boolean> {
    try {
      await documents().send(
        new UpdateCommand({
          TableName: this.invoicesTable,
          Key: { pk },
          UpdateExpression: 'SET #status = :overdue REMOVE openYear',
          ConditionExpression: '#status = :open AND dueDate < :now',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':overdue': 'overdue', ':open': 'open', ':now': now.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false; // paid or credited meanwhile
      throw error;
    }
  }

  /** A page of invoices with this status, in number order, from the status index; `cursor` continues. */
  async list(
    status: InvoiceStatus,
    limit: number,
    cursor?: string,
  ): Promise<{ invoices: StoredInvoice[]; cursor?: string }> {
    const page = await documents().send(
      new QueryCommand({
        TableName: this.invoicesTable,
        IndexName: STATUS_INDEX,
        KeyConditionExpression: '#status = :status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status },
        Limit: limit,
        ExclusiveStartKey: cursor ? decodeCursor(cursor) : undefined,
      }),
    );
    return {
      invoices: (page.Items ?? []).map(({ pk: _pk, openYear: _openYear, ...fields }) => fields as StoredInvoice),
      ...(page.LastEvaluatedKey ? { cursor: encodeCursor(page.LastEvaluatedKey) } : {}),
    };
  }

  /** The invoice as read must be unchanged; a status other than `open` takes it out of the overdue sweep. */
  private invoiceUpdate(
    invoice: StoredInvoice,
    change: { set: Record<string, unknown>; status: InvoiceStatus },
  ): TransactItem {
    const fields = { ...change.set, status: change.status };
    const names = Object.fromEntries(Object.keys(fields).map((field) => [`#${field}`, field]));
    return {
      Update: {
        TableName: this.invoicesTable,
        Key: { pk: SERIES.INV.document(invoice.invoiceNumber) },
        UpdateExpression: `SET ${Object.keys(fields)
          .map((field) => `#${field} = :${field}`)
          .join(', ')}${change.status === 'open' ? '' : ' REMOVE openYear'}`,
        ConditionExpression:
          '#amountPaid = :paidBefore AND #amountCredited = :creditedBefore AND #status = :statusBefore',
        ExpressionAttributeNames: {
          ...names,
          '#amountPaid': 'amountPaid',
          '#amountCredited': 'amountCredited',
          '#status': 'status',
        },
        ExpressionAttributeValues: {
          ...Object.fromEntries(Object.entries(fields).map(([field, value]) => [`:${field}`, value])),
          ':paidBefore': invoice.amountPaid,
          ':creditedBefore': invoice.amountCredited,
          ':statusBefore': invoice.status,
        },
      },
    };
  }

  /** What the customer owes and the credit in use move together (a payment or a credit note on account). */
  private balanceChange(customerId: string, delta: number): TransactItem {
    if (!this.customersTable) throw new Error('This ledger was built without the customers table');
    return {
      Update: {
        TableName: this.customersTable,
        Key: { customerId },
        UpdateExpression: 'ADD openBalance :delta, creditUsed :delta',
        ConditionExpression: 'attribute_exists(customerId)',
        ExpressionAttributeValues: { ':delta': delta },
      },
    };
  }

  private async get(pk: string): Promise<Record<string, unknown> | undefined> {
    const result = await documents().send(
      new GetCommand({ TableName: this.invoicesTable, Key: { pk }, ConsistentRead: true }),
    );
    return result.Item;
  }
}

/** Where card credit-note requests wait for their refund: beside the numbering queue, not in it. */
const refundPending = (year: number) => `CNREFUND#${year}`;

/** Where recorded payments wait until their OrderPaymentReceived is published (the year they were recorded). */
const paymentUnpublished = (year: number) => `PAYMENT#UNPUBLISHED#${year}`;

const paymentPk = (invoiceNumber: string, reference: string) => `PAYMENT#${invoiceNumber}#${reference}`;

/** A payment as recorded, with what its event needs. */
export interface RecordedPayment {
  orderId: string;
  invoiceNumber: string;
  payment: PaymentRequest;
}

function paymentOf(item: Record<string, unknown>): RecordedPayment {
  return {
    orderId: String(item.orderId),
    invoiceNumber: String(item.invoiceNumber),
    payment: { amount: Number(item.amount), reference: String(item.reference), receivedAt: String(item.receivedAt) },
  };
}

function recordOf(item: Record<string, unknown>): CreditNoteRequestRecord {
  return {
    requestId: String(item.requestId),
    year: Number(item.year),
    // Once numbered the request keeps no draft: the credit note itself is then the record.
    draft: item.draft as CreditNoteRequestRecord['draft'],
    ...(typeof item.refundId === 'string' ? { refundId: item.refundId } : {}),
    ...(typeof item.creditNoteNumber === 'string' ? { creditNoteNumber: item.creditNoteNumber } : {}),
    ...(typeof item.fingerprint === 'string' ? { fingerprint: item.fingerprint } : {}),
  };
}

const encodeCursor = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString('base64url');
function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof key === 'object' && key !== null && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // falls through
  }
  throw new InvalidCursor('The cursor is not one this API gave out');
}
