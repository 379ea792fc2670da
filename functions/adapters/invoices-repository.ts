import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { InvoiceNumberPending, InvoiceWithdrawn } from '../core/errors.ts';
import { formatInvoiceNumber } from '../core/invoice-number.ts';
import type { Invoice } from '../core/schemas.ts';
import { backoff } from './backoff.ts';
import { documents } from './clients.ts';

/**
 * Invoices table, partition `pk`:
 *  - `ORDER#<orderId>`: the order's requests (`requests`, a set of shipment ids), and `withdrawn`
 *    once the order is closed without them: from then on no request of the order is made.
 *  - `ORDER#<orderId>#<shipmentId>`: a shipment's invoice request. While it waits for a number it
 *    carries the draft and `pendingYear` (which puts it in the sparse `pendingInvoices` index, oldest
 *    first); once numbered, `invoiceNumber`, so issuing is once per shipment.
 *  - `INVOICE#<number>`: the invoice.
 *  - `COUNTER#<year>`: `{ last }`, the last number issued that year.
 *  - `LEASE#<year>`: `{ owner, expiresAt }`, who numbers that year's pending requests right now.
 *
 * Numbering is single-writer: whoever holds the year's short lease numbers every pending request,
 * in batches, each batch ONE transaction with the counter (`last = :last`), the lease (still ours),
 * the invoices, the requests and the writes that go with them (the customer's balance). So a number
 * exists exactly when its invoice does (no gaps, no duplicates), and contention on the counter is
 * designed away: the other requesters only wait for their number, or take over the lease when its
 * holder stopped renewing it (a crashed function).
 */
export interface StoredInvoice extends Invoice {
  pdfKey?: string;
  emailedAt?: string;
  financeCopiedAt?: string;
}

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Writes that must commit exactly when these invoices are numbered (e.g. the customers' balances). */
export type Settlement = (invoices: readonly Invoice[]) => TransactItem[];

export const PENDING_INDEX = 'pendingInvoices';
/** 2 items per invoice, up to 2 more for its settlement, plus the counter and the lease: within DynamoDB's 100. */
export const BATCH_SIZE = 24;
const LEASE_MS = 5_000;

/** The key of a shipment's invoice request. */
const requestKey = (draft: Pick<Invoice, 'orderId' | 'shipmentId'>) => `ORDER#${draft.orderId}#${draft.shipmentId}`;

interface PendingRequest {
  pk: string;
  orderId: string;
  shipmentId: string;
  year: number;
  draft: Omit<Invoice, 'invoiceNumber'>;
}

export class InvoicesRepository {
  private readonly owner = `${process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? 'local'}#${crypto.randomUUID()}`;

  constructor(private readonly tableName: string) {}

  /** The invoice of one shipment of an order, once numbered. */
  async findForShipment(orderId: string, shipmentId: string): Promise<StoredInvoice | undefined> {
    const link = await this.item(requestKey({ orderId, shipmentId }));
    return typeof link?.invoiceNumber === 'string' ? this.invoice(link.invoiceNumber) : undefined;
  }

  /**
   * Issues the shipment's invoice with the next number of `year`, or returns the one it already has.
   * Records the request, then waits for its number, numbering every pending request itself while it
   * holds the year's lease. Throws `InvoiceNumberPending` (retryable by name) when `waitMs` passed.
   */
  async issue(
    draft: Omit<Invoice, 'invoiceNumber'>,
    year: number,
    options: { settle?: Settlement; waitMs?: number } = {},
  ): Promise<StoredInvoice> {
    const settle = options.settle ?? (() => []);
    const deadline = Date.now() + (options.waitMs ?? 20_000);
    const existing = await this.findForShipment(draft.orderId, draft.shipmentId);
    if (existing) return existing;
    // The request keeps the year it was first made in: a retry after New Year numbers it there.
    const requestYear = await this.request(draft, year);
    for (let attempt = 0; ; attempt++) {
      const [link, lease] = await this.items([requestKey(draft), `LEASE#${requestYear}`]);
      if (typeof link?.invoiceNumber === 'string') return this.invoice(link.invoiceNumber);
      if (link?.withdrawn)
        throw new InvoiceWithdrawn(`The invoice request of shipment ${draft.shipmentId} was withdrawn`);
      if (Date.now() > deadline) {
        throw new InvoiceNumberPending(`The invoice of order ${draft.orderId} is waiting for its number; try again`);
      }
      const leaseFree = !lease || Number(lease.expiresAt) < Date.now();
      if (leaseFree && (await this.acquireLease(requestYear))) {
        try {
          await this.numberPending(requestYear, settle, deadline);
        } finally {
          await this.releaseLease(requestYear);
        }
      }
      // Also after a round as holder that did not number ours (e.g. the index not showing it yet).
      await backoff(attempt, 20, 250, 20);
    }
  }

  async update(invoiceNumber: string, changes: { pdfKey?: string; emailedAt?: string; financeCopiedAt?: string }) {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    await documents().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `INVOICE#${invoiceNumber}` },
        UpdateExpression: `SET ${entries.map(([field]) => `${field} = :${field}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: Object.fromEntries(entries.map(([field, value]) => [`:${field}`, value])),
      }),
    );
  }

  /**
   * Withdraws the order's invoice requests (the order is being closed without them): the order is
   * marked so that no request of it is made from now on, and each request still waiting for its
   * number is withdrawn, so no holder numbers it and no retry issues it. Returns the numbers of the
   * invoices issued already (they exist and stay). Safe to repeat.
   */
  async withdraw(orderId: string): Promise<{ invoiceNumbers: string[] }> {
    const marked = await documents().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `ORDER#${orderId}` },
        UpdateExpression: 'SET withdrawn = :true',
        ExpressionAttributeValues: { ':true': true },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const shipmentIds = [...((marked.Attributes?.requests as Set<string> | undefined) ?? [])].sort();
    const invoiceNumbers: string[] = [];
    for (const shipmentId of shipmentIds) {
      const pk = requestKey({ orderId, shipmentId });
      try {
        await documents().send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk },
            UpdateExpression: 'SET withdrawn = :true REMOVE pendingYear, requestedAt',
            ConditionExpression: 'attribute_not_exists(invoiceNumber)',
            ExpressionAttributeValues: { ':true': true },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        invoiceNumbers.push(String((await this.item(pk))?.invoiceNumber));
      }
    }
    return { invoiceNumbers };
  }

  /**
   * Records the request once, together with its place in the order's list of requests, unless the
   * order's requests were withdrawn (InvoiceWithdrawn); a retry finds it (pending or numbered) and
   * just waits. Returns the year the request is numbered in (the one it was first made in).
   */
  private async request(draft: Omit<Invoice, 'invoiceNumber'>, year: number, attempt = 0): Promise<number> {
    const pk = requestKey(draft);
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: { pk: `ORDER#${draft.orderId}` },
                UpdateExpression: 'ADD requests :shipment',
                ConditionExpression: 'attribute_not_exists(withdrawn)',
                ExpressionAttributeValues: { ':shipment': new Set([draft.shipmentId]) },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk,
                  orderId: draft.orderId,
                  shipmentId: draft.shipmentId,
                  year,
                  pendingYear: String(year),
                  requestedAt: `${new Date().toISOString()}#${draft.shipmentId}`,
                  draft,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return year;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [order, request] = error.CancellationReasons ?? [];
      if (request?.Code === 'ConditionalCheckFailed') {
        const stored = await this.item(pk);
        return typeof stored?.year === 'number' ? stored.year : year;
      }
      if (order?.Code === 'ConditionalCheckFailed')
        throw new InvoiceWithdrawn(`The invoice requests of order ${draft.orderId} were withdrawn`);
      // The order's shipments ask at the same moment and all write the order's item: try again here
      // (both writes are idempotent) rather than failing the task into the workflow's slower Retry.
      if (order?.Code === 'TransactionConflict' && attempt < 8) {
        await backoff(attempt, 10, 200);
        return this.request(draft, year, attempt + 1);
      }
      throw error;
    }
  }

  private async acquireLease(year: number): Promise<boolean> {
    const now = Date.now();
    try {
      await documents().send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `LEASE#${year}`, owner: this.owner, expiresAt: now + LEASE_MS },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Lets the lease go at once (an update, not a delete: the next holder takes it over by condition). */
  private async releaseLease(year: number): Promise<void> {
    try {
      await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `LEASE#${year}` },
          UpdateExpression: 'SET expiresAt = :zero',
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':zero': 0, ':me': this.owner },
        }),
      );
    } catch (error) {
      // Taken over meanwhile: it is someone else's now. Any other error: the lease simply expires.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Numbers the year's pending requests, oldest first, a batch per transaction, while the lease is ours. */
  private async numberPending(year: number, settle: Settlement, deadline: number): Promise<void> {
    const skipped = new Set<string>();
    let last = await this.last(year);
    let conflicts = 0;
    // Keep numbering while there is work and time; the lease is renewed by every batch.
    while (Date.now() < deadline) {
      const pending = (await this.pending(year)).filter((r) => !skipped.has(r.pk)).slice(0, BATCH_SIZE);
      if (pending.length === 0) return;
      const invoices: Invoice[] = pending.map((r, index) => ({
        ...r.draft,
        invoiceNumber: formatInvoiceNumber(year, last + index + 1),
      }));
      // Each write's request (its key), so a refusal is traced back to the request concerned.
      const owners: (string | undefined)[] = [];
      const items: TransactItem[] = [];
      const add = (item: TransactItem, owner?: string) => {
        items.push(item);
        owners.push(owner);
      };
      add(this.counterWrite(year, last, last + invoices.length));
      add(this.leaseRenewal(year));
      invoices.forEach((invoice) => {
        const owner = requestKey(invoice);
        add(
          {
            Put: {
              TableName: this.tableName,
              Item: { pk: `INVOICE#${invoice.invoiceNumber}`, ...invoice },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          owner,
        );
        add(
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: owner },
              UpdateExpression: 'SET invoiceNumber = :n REMOVE pendingYear, requestedAt, draft',
              ConditionExpression:
                'attribute_exists(pk) AND attribute_not_exists(invoiceNumber) AND attribute_not_exists(withdrawn)',
              ExpressionAttributeValues: { ':n': invoice.invoiceNumber },
            },
          },
          owner,
        );
      });
      // Settlement writes belong to the batch as a whole (one update per customer); a refusal there
      // is traced back to a single request by numbering that request alone.
      const single = invoices.length === 1 && invoices[0] ? requestKey(invoices[0]) : undefined;
      for (const item of settle(invoices)) add(item, single);
      try {
        await documents().send(new TransactWriteCommand({ TransactItems: items }));
        last += invoices.length;
        conflicts = 0;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const refused = (index: number) => reasons[index]?.Code === 'ConditionalCheckFailed';
        if (refused(1)) return; // the lease expired and was taken over: the new holder goes on
        if (refused(0)) {
          last = await this.last(year); // numbered by a previous holder we overlapped with
          continue;
        }
        const refusedRequests = new Set(owners.filter((owner, index) => owner && refused(index)) as string[]);
        if (refusedRequests.size > 0) {
          // Already numbered (an index read behind the table) or a settlement refused for this request.
          for (const pk of refusedRequests)
            if (typeof (await this.item(pk))?.invoiceNumber !== 'string') skipped.add(pk);
          continue;
        }
        const transient = ['None', 'TransactionConflict', 'ThrottlingError'];
        if (reasons.some((r) => r.Code && !transient.includes(r.Code))) {
          // A settlement of a batch refused: number these one at a time to find the order concerned.
          for (const r of pending.slice(1)) skipped.add(r.pk);
          continue;
        }
        await backoff(++conflicts, 10, 200); // a conflict on a customer, or throttling: try again
      }
    }
  }

  private counterWrite(year: number, last: number, next: number): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { pk: `COUNTER#${year}`, last: next },
        ...(last === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#last = :last',
              ExpressionAttributeNames: { '#last': 'last' },
              ExpressionAttributeValues: { ':last': last },
            }),
      },
    };
  }

  private leaseRenewal(year: number): TransactItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: `LEASE#${year}` },
        UpdateExpression: 'SET expiresAt = :expires',
        ConditionExpression: '#owner = :me',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':expires': Date.now() + LEASE_MS, ':me': this.owner },
      },
    };
  }

  private async last(year: number): Promise<number> {
    const counter = await this.item(`COUNTER#${year}`);
    return typeof counter?.last === 'number' ? counter.last : 0;
  }

  private async pending(year: number): Promise<PendingRequest[]> {
    const result = await documents().send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: PENDING_INDEX,
        KeyConditionExpression: 'pendingYear = :year',
        ExpressionAttributeValues: { ':year': String(year) },
        Limit: BATCH_SIZE * 2,
      }),
    );
    return (result.Items ?? []) as PendingRequest[];
  }

  private async invoice(invoiceNumber: string): Promise<StoredInvoice> {
    const invoice = await this.item(`INVOICE#${invoiceNumber}`);
    if (!invoice) throw new Error(`Invoice ${invoiceNumber} is linked but missing`);
    const { pk: _pk, ...fields } = invoice;
    return fields as unknown as StoredInvoice;
  }

  private async item(pk: string): Promise<Record<string, unknown> | undefined> {
    const result = await documents().send(
      new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }),
    );
    return result.Item;
  }

  /** Several items in one consistent read (the request and the lease are polled together). */
  private async items(pks: string[]): Promise<(Record<string, unknown> | undefined)[]> {
    const result = await documents().send(
      new BatchGetCommand({
        RequestItems: { [this.tableName]: { Keys: pks.map((pk) => ({ pk })), ConsistentRead: true } },
      }),
    );
    const found = new Map((result.Responses?.[this.tableName] ?? []).map((item) => [String(item.pk), item]));
    const unprocessed = result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    if (unprocessed.length > 0) return Promise.all(pks.map((pk) => this.item(pk)));
    return pks.map((pk) => found.get(pk));
  }
}
