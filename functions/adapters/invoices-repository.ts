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
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { InvoiceNumberPending, InvoiceWithdrawn } from '../core/errors.ts';
import { type DocumentSeries, formatDocumentNumber } from '../core/invoice-number.ts';
import type { CreditNote, Invoice } from '../core/schemas.ts';
import { backoff } from './backoff.ts';
import { documents } from './clients/dynamodb.ts';
import { isConflict, retryingConflicts } from './conflicts.ts';

/**
 * Invoices table, partition `pk`:
 *  - `ORDER#<orderId>`: the order's requests (`requests`, a set of shipment ids), and `withdrawn`
 *    once the order is closed without them: from then on no request of the order is made.
 *  - `ORDER#<orderId>#<shipmentId>`: a shipment's invoice request (request id `<orderId>#<shipmentId>`).
 *    While it waits for a number it carries the draft and `pendingYear` (which puts it in the sparse
 *    `pendingInvoices` index, oldest first); once numbered, `invoiceNumber`, so issuing is once per shipment.
 *  - `INVOICE#<number>`: the invoice.
 *  - `COUNTER#<year>`: `{ last }`, the last number issued that year.
 *  - `LEASE#<year>`: `{ owner, expiresAt, last }`, who numbers that year's pending requests right now,
 *    and the counter's `last` as its holder's last batch wrote it (see `acquireLease`).
 *  - Credit notes are a second series numbered the same way with their own keys: the request
 *    `CNREQ#<requestId>` (pending under `CN#<year>`), `CREDITNOTE#<number>`, `COUNTER#CN#<year>`,
 *    `LEASE#CN#<year>` (see SERIES). A note is numbered under `CN#FINISHING#<year>` in the pending
 *    index (its `requestedAt` the time it was numbered) until it was delivered and published
 *    (`finishedAt`), so the sweep finds a note whose caller left before that.
 *  - Payments: `PAYMENT#<invoice number>#<reference>`, under `PAYMENT#UNPUBLISHED#<year>` in the
 *    pending index (its `requestedAt` the time it was recorded) until OrderPaymentReceived was published.
 *  - Invoices carry `status` (the `invoicesByStatus` index, for listing) and, while open and not
 *    yet overdue, `openYear` (the sparse `openInvoicesByDue` index, due date order, for the overdue sweep).
 *
 * Numbering is single-writer: whoever holds the year's short lease numbers every pending request,
 * in batches, each batch ONE transaction with the counter (`last = :last`), the lease (still ours),
 * the invoices, the requests and the writes that go with them (the customer's balance). So a number
 * exists exactly when its invoice does (no gaps, no duplicates), and contention on the counter is
 * designed away: the other requesters only wait for their number, or take over the lease when its
 * holder stopped renewing it (a crashed function).
 */
export interface Delivery {
  pdfKey?: string;
  emailedAt?: string;
  financeCopiedAt?: string;
}
export interface StoredInvoice extends Invoice, Delivery {
  receiptSentAt?: string;
}
export interface StoredCreditNote extends CreditNote, Delivery {
  refundId?: string;
  /** Delivered and published (OrderCreditNoteIssued) at least once. */
  finishedAt?: string;
}

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Writes that must commit exactly when these documents are numbered (e.g. the customers' balances). */
export type Settlement<D = Invoice> = (documents: readonly D[]) => TransactItem[];

/**
 * A request's place in a group written with it (the order's list of invoice requests): the request
 * is recorded only while the group is not withdrawn, so the group is fenced as a whole.
 */
export interface RequestGroup {
  pk: string;
  member: string;
}

/** The request id of a shipment's invoice. */
export const invoiceRequestId = (draft: Pick<Invoice, 'orderId' | 'shipmentId'>) =>
  `${draft.orderId}#${draft.shipmentId}`;

/** Where a numbered series keeps its requests, counter, lease and documents. */
interface SeriesKeys {
  request: (requestId: string) => string;
  pending: (year: number) => string;
  counter: (year: number) => string;
  lease: (year: number) => string;
  document: (documentNumber: string) => string;
  /** The field holding the number, on the document and on its request once numbered. */
  numberField: string;
  /** Index attributes the document is stored with when numbered (`at`: the numbering's time). */
  indexed: (document: Record<string, unknown>, at: Date) => Record<string, unknown>;
}

/** The invoices keep the keys they always had; credit notes have their own. */
export const SERIES: Record<DocumentSeries, SeriesKeys> = {
  INV: {
    request: (orderId) => `ORDER#${orderId}`,
    pending: (year) => String(year),
    counter: (year) => `COUNTER#${year}`,
    lease: (year) => `LEASE#${year}`,
    document: (n) => `INVOICE#${n}`,
    numberField: 'invoiceNumber',
    indexed: (invoice) => (invoice.status === 'open' ? { openYear: openYearOf(String(invoice.dueDate)) } : {}),
  },
  CN: {
    request: (requestId) => `CNREQ#${requestId}`,
    pending: (year) => `CN#${year}`,
    counter: (year) => `COUNTER#CN#${year}`,
    lease: (year) => `LEASE#CN#${year}`,
    document: (n) => `CREDITNOTE#${n}`,
    numberField: 'creditNoteNumber',
    // Sorted by when it was numbered (not requested): the sweep's grace gives its caller time to finish it.
    indexed: (note, at) => ({
      pendingYear: creditNoteFinishing(Number(String(note.creditNoteNumber).slice(3, 7))),
      requestedAt: `${at.toISOString()}#${String(note.requestId)}`,
    }),
  },
};

/** Where numbered credit notes wait (pending index) until delivered and published: see SERIES.CN. */
export const creditNoteFinishing = (year: number): string => `CN#FINISHING#${year}`;

/** The partition of the open-invoices index: the due date's year (the sweep reads this year and last). */
export const openYearOf = (dueDate: string): string => dueDate.slice(0, 4);

export const PENDING_INDEX = 'pendingInvoices';
export const STATUS_INDEX = 'invoicesByStatus';
export const OPEN_INDEX = 'openInvoicesByDue';
/** 2 items per invoice, up to 2 more for its settlement, plus the counter and the lease: within DynamoDB's 100. */
export const BATCH_SIZE = 24;
const LEASE_MS = 5_000;
/** Tries to let the lease go while a transaction holds it, before leaving it to expire. */
const RELEASE_RETRY = { attempts: 4, baseMs: 10, capMs: 100 };

interface PendingRequest {
  pk: string;
  /** Invoice requests made before there were several series carry only `orderId`. */
  requestId?: string;
  orderId: string;
  year: number;
  draft: Record<string, unknown>;
}
const requestIdOf = (request: PendingRequest): string => request.requestId ?? request.orderId;

/** The counter's last number as a lease carries it (see acquireLease). */
const lastOf = (lease: Record<string, unknown> | undefined): { last?: number } =>
  typeof lease?.last === 'number' ? { last: lease.last } : {};

/** What a lease holder's round numbered (by request id, as written), and whether its last batch let the lease go. */
interface Round {
  numbered: Map<string, Record<string, unknown>>;
  released: boolean;
}

export class InvoicesRepository {
  /** Where the lease owners of this repository's calls run (each call is an owner of its own). */
  private readonly environment = process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? 'local';

  constructor(private readonly tableName: string) {}

  /** The invoice of one shipment of an order, once numbered. */
  async findForShipment(orderId: string, shipmentId: string): Promise<StoredInvoice | undefined> {
    return this.findNumbered<StoredInvoice>('INV', invoiceRequestId({ orderId, shipmentId }));
  }

  async findInvoice(invoiceNumber: string): Promise<StoredInvoice | undefined> {
    return (await this.document('INV', invoiceNumber)) as StoredInvoice | undefined;
  }

  async findCreditNote(creditNoteNumber: string): Promise<StoredCreditNote | undefined> {
    return (await this.document('CN', creditNoteNumber)) as StoredCreditNote | undefined;
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
    return this.number<StoredInvoice>('INV', invoiceRequestId(draft), draft, year, {
      ...(options as { settle?: Settlement<unknown>; waitMs?: number }),
      group: { pk: `ORDER#${draft.orderId}`, member: draft.shipmentId },
    });
  }

  /**
   * The numbering of any series: records the request `requestId` once (a retry finds it, pending or
   * numbered), then waits for its number, numbering the series' pending requests itself while it
   * holds the year's lease. The same code numbers invoices and credit notes. With a `group`, the
   * request is recorded only while the group is not withdrawn (InvoiceWithdrawn).
   */
  async number<D>(
    series: DocumentSeries,
    requestId: string,
    draft: object,
    year: number,
    options: { settle?: Settlement<unknown>; waitMs?: number; group?: RequestGroup } = {},
  ): Promise<D> {
    const keys = SERIES[series];
    const settle = options.settle ?? (() => []);
    const deadline = Date.now() + (options.waitMs ?? 20_000);
    // The request keeps the year it was first made in: a retry after New Year numbers it there. A retry
    // finds its request recorded (numbered or not) and polls it below.
    const { year: requestYear, recorded } = await this.request(series, requestId, draft, year, options.group);
    // The lease's owner is this call, not the repository: calls that share it never take one lease for two.
    const owner = `${this.environment}#${crypto.randomUUID()}`;
    // Recorded by this call: as stored, so a round of ours numbers it even while the index does not show it yet.
    const own = recorded ? (this.requestItem(series, requestId, draft, requestYear) as PendingRequest) : undefined;
    for (let attempt = 0; ; attempt++) {
      // A request this call has just recorded is not numbered yet: its first try goes for the lease at once.
      const fresh = recorded && attempt === 0;
      if (!fresh) {
        const [link, lease] = await this.items([keys.request(requestId), keys.lease(requestYear)]);
        const numbered = link?.[keys.numberField];
        if (typeof numbered === 'string') return this.linked<D>(series, numbered);
        if (link?.withdrawn) throw new InvoiceWithdrawn(`The ${series} request ${requestId} was withdrawn`);
        if (Date.now() > deadline) {
          throw new InvoiceNumberPending(`The ${series} document of ${requestId} is waiting for its number; try again`);
        }
        // Held by another call (a lease still naming this call is its own: acquireLease answers it as ours).
        if (lease && Number(lease.expiresAt) >= Date.now() && lease.owner !== owner) {
          await backoff(attempt, 20, 250, 20);
          continue;
        }
      }
      const held = await this.acquireLease(series, requestYear, owner);
      if (held) {
        let round: Round = { numbered: new Map(), released: false };
        try {
          round = await this.numberPending(series, requestYear, settle, deadline, { owner, known: held.last, own });
        } finally {
          // The round's last batch let it go in its own transaction when nothing else was pending.
          if (!round.released) await this.releaseLease(series, requestYear, owner);
        }
        // Ours was numbered in this round: its document is what the committed batch wrote, no need to read it.
        const ours = round.numbered.get(requestId);
        if (ours) return ours as D;
      }
      // Also after a round as holder that did not number ours (e.g. the index not showing it yet).
      await backoff(attempt, 20, 250, 20);
    }
  }

  /** The document of a request once numbered. */
  async findNumbered<D>(series: DocumentSeries, requestId: string): Promise<D | undefined> {
    const link = await this.item(SERIES[series].request(requestId));
    const numbered = link?.[SERIES[series].numberField];
    return typeof numbered === 'string' ? this.linked<D>(series, numbered) : undefined;
  }

  private async linked<D>(series: DocumentSeries, documentNumber: string): Promise<D> {
    const found = await this.document(series, documentNumber);
    if (!found) throw new Error(`${series} ${documentNumber} is linked but missing`);
    return found as D;
  }

  async update(invoiceNumber: string, changes: Delivery & { receiptSentAt?: string }) {
    await this.updateDocument('INV', invoiceNumber, changes);
  }

  async updateCreditNote(creditNoteNumber: string, changes: Delivery & { refundId?: string }) {
    await this.updateDocument('CN', creditNoteNumber, changes);
  }

  /** The note was delivered and published: it leaves the sweep's partition (see SERIES.CN). */
  async markCreditNoteFinished(creditNoteNumber: string, at: Date) {
    await documents().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: SERIES.CN.document(creditNoteNumber) },
        UpdateExpression: 'SET finishedAt = :at REMOVE pendingYear, requestedAt',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      }),
    );
  }

  private async updateDocument(series: DocumentSeries, documentNumber: string, changes: object) {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
    if (entries.length === 0) return;
    await documents().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: SERIES[series].document(documentNumber) },
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
      const pk = SERIES.INV.request(invoiceRequestId({ orderId, shipmentId }));
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
   * Records the request once (with its place in its group, unless the group was withdrawn:
   * InvoiceWithdrawn); a retry finds it (pending or numbered) and just waits. Answers the year the
   * request is numbered in (the one it was first made in) and whether this call recorded it.
   */
  private async request(
    series: DocumentSeries,
    requestId: string,
    draft: object,
    year: number,
    group?: RequestGroup,
    attempt = 0,
  ): Promise<{ year: number; recorded: boolean }> {
    const put = {
      TableName: this.tableName,
      Item: this.requestItem(series, requestId, draft, year),
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    /** The request as a previous call recorded it, if one did. */
    const stored = async () => {
      const found = await this.item(SERIES[series].request(requestId));
      return found && { year: typeof found.year === 'number' ? found.year : year, recorded: false };
    };
    if (!group) {
      try {
        await documents().send(new PutCommand(put));
        return { year, recorded: true };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return (await stored()) ?? { year, recorded: false };
      }
    }
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: { pk: group.pk },
                UpdateExpression: 'ADD requests :member',
                ConditionExpression: 'attribute_not_exists(withdrawn)',
                ExpressionAttributeValues: { ':member': new Set([group.member]) },
              },
            },
            { Put: put },
          ],
        }),
      );
      return { year, recorded: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [marker, request] = error.CancellationReasons ?? [];
      if (request?.Code === 'ConditionalCheckFailed') return (await stored()) ?? { year, recorded: false };
      if (marker?.Code === 'ConditionalCheckFailed') {
        // A request recorded before its group was withdrawn is answered as recorded (numbered, its
        // document is returned; withdrawn, the caller says so): only a new one is refused here.
        const recorded = await stored();
        if (recorded) return recorded;
        throw new InvoiceWithdrawn(`The ${series} requests of ${group.pk} were withdrawn`);
      }
      // The order's shipments ask at the same moment and all write the order's item: try again here
      // (both writes are idempotent) rather than failing the task into the workflow's slower Retry.
      if (marker?.Code === 'TransactionConflict' && attempt < 8) {
        await backoff(attempt, 10, 200);
        return this.request(series, requestId, draft, year, group, attempt + 1);
      }
      throw error;
    }
  }

  /** A request as queued for numbering (pending in its series' partition of the index, oldest first). */
  requestItem(series: DocumentSeries, requestId: string, draft: object, year: number) {
    return {
      pk: SERIES[series].request(requestId),
      requestId,
      orderId: (draft as { orderId?: string }).orderId,
      year,
      pendingYear: SERIES[series].pending(year),
      requestedAt: `${new Date().toISOString()}#${requestId}`,
      draft,
    };
  }

  /**
   * Takes the year's lease when it is free (never taken, let go, or expired: its holder stopped), and
   * answers the counter's `last` as the previous holder's last batch left it on the lease: the new
   * holder need not read the counter. It is only a hint: the counter's own condition (`last = :last`)
   * still guards every batch, and a refusal there reads the counter. Undefined: the lease is held,
   * also while its holder's batch is in flight (DynamoDB refuses a write to an item in an ongoing
   * transaction with TransactionConflict, which the SDK does not retry). A refusal that names this
   * call as the holder is its own write, answered late and retried by the SDK: the lease is ours.
   */
  private async acquireLease(
    series: DocumentSeries,
    year: number,
    owner: string,
  ): Promise<{ last?: number } | undefined> {
    const now = Date.now();
    try {
      const taken = await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: SERIES[series].lease(year) },
          UpdateExpression: 'SET #owner = :me, expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':me': owner, ':expires': now + LEASE_MS, ':now': now },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return lastOf(taken.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const lease = error.Item ? unmarshall(error.Item) : undefined;
        return lease?.owner === owner ? lastOf(lease) : undefined;
      }
      if (isConflict(error)) return undefined;
      throw error;
    }
  }

  /**
   * Lets the lease go at once (an update, not a delete: the next holder takes it over by condition).
   * Refused: taken over meanwhile, it is someone else's now. In a transaction (a batch of an earlier
   * holder, still in flight, that the lease will refuse): tried again a few times, then left to expire.
   */
  private async releaseLease(series: DocumentSeries, year: number, owner: string): Promise<void> {
    const release = {
      TableName: this.tableName,
      Key: { pk: SERIES[series].lease(year) },
      UpdateExpression: 'SET expiresAt = :zero',
      ConditionExpression: '#owner = :me',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':zero': 0, ':me': owner },
    };
    try {
      await retryingConflicts(() => documents().send(new UpdateCommand(release)), RELEASE_RETRY);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) && !isConflict(error)) throw error;
    }
  }

  /**
   * Numbers the year's pending requests, oldest first, a batch per transaction, while the lease is ours.
   * `known`: the counter's last as the lease answered it; `own`: the caller's request as it recorded it,
   * numbered after the others when the index does not show it yet (an index lags its table in DynamoDB).
   * Answers the documents it numbered by request id, as written (what `linked` would read back), and
   * whether its last batch let the lease go.
   */
  private async numberPending(
    series: DocumentSeries,
    year: number,
    settle: Settlement<unknown>,
    deadline: number,
    { owner, known, own }: { owner: string; known?: number; own?: PendingRequest },
  ): Promise<Round> {
    const keys = SERIES[series];
    const done = new Map<string, Record<string, unknown>>();
    const skipped = new Set<string>();
    let last = known ?? (await this.last(series, year));
    let conflicts = 0;
    // Keep numbering while there is work and time; the lease is renewed by every batch.
    while (Date.now() < deadline) {
      const numberedAt = new Date();
      const found = await this.pending(series, year);
      const shown = (r: PendingRequest) => found.requests.some((p) => requestIdOf(p) === requestIdOf(r));
      // Ours last when the index does not show it yet; what this round numbered or left out, not again (an
      // index read behind the table still shows what a committed batch numbered).
      const waiting = [...found.requests, ...(own && !shown(own) ? [own] : [])].filter(
        (r) => !skipped.has(requestIdOf(r)) && !done.has(requestIdOf(r)),
      );
      const pending = waiting.slice(0, BATCH_SIZE);
      if (pending.length === 0) return { numbered: done, released: false };
      // All that was pending fits in this batch: the batch lets the lease go, and the round ends with it. A
      // request recorded meanwhile is numbered by its own caller, who finds the lease free.
      const lastBatch = found.complete && waiting.length <= BATCH_SIZE;
      const numbered = pending.map((r, index) => ({
        requestId: requestIdOf(r),
        document: { ...r.draft, [keys.numberField]: formatDocumentNumber(series, year, last + index + 1) },
      }));
      /** The request each item of the transaction belongs to (by index), if one. */
      const requestOf: (string | undefined)[] = [];
      const items: TransactItem[] = [];
      const add = (item: TransactItem, requestId?: string) => {
        items.push(item);
        requestOf.push(requestId);
      };
      add(this.counterWrite(series, year, last, last + numbered.length));
      add(this.leaseWrite(series, year, owner, last + numbered.length, lastBatch));
      for (const { requestId, document } of numbered) {
        const documentNumber = String(document[keys.numberField]);
        add(
          {
            Put: {
              TableName: this.tableName,
              Item: { pk: keys.document(documentNumber), ...document, ...keys.indexed(document, numberedAt) },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          requestId,
        );
        add(
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: keys.request(requestId) },
              UpdateExpression: 'SET #number = :n REMOVE pendingYear, requestedAt, draft',
              ConditionExpression:
                'attribute_exists(pk) AND attribute_not_exists(#number) AND attribute_not_exists(withdrawn)',
              ExpressionAttributeNames: { '#number': keys.numberField },
              ExpressionAttributeValues: { ':n': documentNumber },
            },
          },
          requestId,
        );
      }
      // Settlement writes belong to the batch as a whole (one update per customer); a refusal there
      // is traced back to a single request by numbering that request alone.
      const batch = numbered.map((n) => n.document);
      for (const item of settle(batch)) add(item, numbered.length === 1 ? numbered[0]?.requestId : undefined);
      try {
        await documents().send(new TransactWriteCommand({ TransactItems: items }));
        last += numbered.length;
        conflicts = 0;
        for (const { requestId, document } of numbered) done.set(requestId, document);
        if (lastBatch) return { numbered: done, released: true };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const refused = (index: number) => reasons[index]?.Code === 'ConditionalCheckFailed';
        // The lease expired and was taken over: the new holder goes on (there is nothing of ours to let go).
        if (refused(1)) return { numbered: done, released: true };
        if (refused(0)) {
          last = await this.last(series, year); // numbered by a previous holder we overlapped with
          continue;
        }
        const refusedRequests = requestOf.filter((id, index) => id && refused(index)) as string[];
        if (refusedRequests.length > 0) {
          // Already numbered or withdrawn (an index read behind the table), or a settlement refused for this
          // request: this round leaves it (a request still waiting is numbered by a later round).
          for (const id of refusedRequests) skipped.add(id);
          continue;
        }
        const transient = ['None', 'TransactionConflict', 'ThrottlingError'];
        if (reasons.some((r) => r.Code && !transient.includes(r.Code))) {
          // A settlement of a batch refused: number these one at a time to find the order concerned.
          for (const r of pending.slice(1)) skipped.add(requestIdOf(r));
          continue;
        }
        await backoff(++conflicts, 10, 200); // a conflict on a customer, or throttling: try again
      }
    }
    return { numbered: done, released: false };
  }

  private counterWrite(series: DocumentSeries, year: number, last: number, next: number): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { pk: SERIES[series].counter(year), last: next },
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

  /**
   * The lease's part of a batch: still ours, renewed (or let go with the round's last batch), and
   * carrying the counter's new `last` for the next holder.
   */
  private leaseWrite(series: DocumentSeries, year: number, owner: string, last: number, letGo: boolean): TransactItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: SERIES[series].lease(year) },
        UpdateExpression: 'SET expiresAt = :expires, #last = :last',
        ConditionExpression: '#owner = :me',
        ExpressionAttributeNames: { '#owner': 'owner', '#last': 'last' },
        ExpressionAttributeValues: { ':expires': letGo ? 0 : Date.now() + LEASE_MS, ':me': owner, ':last': last },
      },
    };
  }

  private async last(series: DocumentSeries, year: number): Promise<number> {
    const counter = await this.item(SERIES[series].counter(year));
    return typeof counter?.last === 'number' ? counter.last : 0;
  }

  /** The oldest pending requests of the year; `complete` when there are no more than these. */
  private async pending(
    series: DocumentSeries,
    year: number,
  ): Promise<{ requests: PendingRequest[]; complete: boolean }> {
    const result = await documents().send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: PENDING_INDEX,
        KeyConditionExpression: 'pendingYear = :year',
        ExpressionAttributeValues: { ':year': SERIES[series].pending(year) },
        Limit: BATCH_SIZE * 2,
      }),
    );
    return { requests: (result.Items ?? []) as PendingRequest[], complete: !result.LastEvaluatedKey };
  }

  /** A numbered document without its storage attributes (key and index fields). */
  private async document(series: DocumentSeries, documentNumber: string): Promise<Record<string, unknown> | undefined> {
    const stored = await this.item(SERIES[series].document(documentNumber));
    if (!stored) return undefined;
    const { pk: _pk, openYear: _openYear, pendingYear: _pendingYear, requestedAt: _requestedAt, ...fields } = stored;
    return fields;
  }

  protected async item(pk: string): Promise<Record<string, unknown> | undefined> {
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
