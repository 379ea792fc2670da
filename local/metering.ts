import { Agent, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import {
  closeServers,
  FAULT_SERVICES,
  type FaultService,
  type Forwarded,
  forward,
  listenProxy,
  readAll,
} from './faults.ts';

/**
 * Usage metering at the emulator boundary, for the cost model: a small HTTP proxy in front of each
 * AWS endpoint the functions use counts what AWS bills, as the requests and answers pass. Off unless
 * the runtime is started with `metering: true`; handler code is untouched.
 *
 * DynamoDB: every data-plane request is sent on with `ReturnConsumedCapacity: TOTAL` (unless it
 * asked for capacity itself) and the `ConsumedCapacity` of the answer is summed into read or write
 * request units; the field is taken out of the answer again (checksum recomputed), so a function
 * sees exactly what it would have seen. DynamoDB Local reports the units; they are its figures.
 */

export type MeteredService = FaultService;

export interface Usage {
  /** Requests by service and operation (`PutItem`, `PutEvents`, `SendEmail`, `PUT`, `GET`…). */
  requests: Record<MeteredService, Record<string, number>>;
  dynamodb: {
    readUnits: number;
    writeUnits: number;
    /** The same units by table (as ConsumedCapacity names it). */
    byTable: Record<string, { readUnits: number; writeUnits: number }>;
    /** Units by operation (`UpdateItem`, `TransactWriteItems`…). */
    byOperation: Record<string, number>;
    /** Writes refused by a condition or a cancelled transaction: DynamoDB bills them too, without saying how many units. */
    failedWrites: number;
    /**
     * Items the write requests asked to write, whether the write succeeded or not: one per PutItem,
     * UpdateItem or DeleteItem, one per Put, Update or Delete of a transaction (a ConditionCheck
     * writes nothing), one per request of a BatchWriteItem.
     */
    itemWrites: number;
  };
  ses: { messages: number; recipients: number; attachmentBytes: number };
  eventbridge: {
    /** Entries taken by PutEvents. */
    entries: number;
    /** What EventBridge bills: one event per started 64 KB of each entry. */
    billedEvents: number;
  };
  s3: {
    /** PUT, COPY, POST and LIST requests (one price tier). */
    putRequests: number;
    /** GET and HEAD requests (the other). */
    getRequests: number;
    bytesIn: number;
    bytesOut: number;
  };
}

const DYNAMODB_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const EVENT_CHUNK_BYTES = 64 * 1024;

export function emptyUsage(): Usage {
  return {
    requests: Object.fromEntries(FAULT_SERVICES.map((s) => [s, {}])) as Usage['requests'],
    dynamodb: { readUnits: 0, writeUnits: 0, byTable: {}, byOperation: {}, failedWrites: 0, itemWrites: 0 },
    ses: { messages: 0, recipients: 0, attachmentBytes: 0 },
    eventbridge: { entries: 0, billedEvents: 0 },
    s3: { putRequests: 0, getRequests: 0, bytesIn: 0, bytesOut: 0 },
  };
}

type Json = Record<string, unknown>;

function parseJson(data: Buffer): Json | undefined {
  try {
    const value = JSON.parse(data.toString('utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** The items a DynamoDB write request asks to write (see `Usage.dynamodb.itemWrites`). */
export function itemWrites(operation: string, input: Json): number {
  if (operation === 'TransactWriteItems')
    return ((input.TransactItems ?? []) as Json[]).filter((item) => item.Put || item.Update || item.Delete).length;
  if (operation === 'BatchWriteItem')
    return Object.values((input.RequestItems ?? {}) as Record<string, unknown[]>).reduce((n, r) => n + r.length, 0);
  return DYNAMODB_WRITES.has(operation) ? 1 : 0;
}

/** The units of a `ConsumedCapacity` (one object, or one per table for batches and transactions), by table. */
export function capacityUnits(consumed: unknown): Record<string, number> {
  const all = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as {
    TableName?: string;
    CapacityUnits?: number;
  }[];
  const byTable: Record<string, number> = {};
  for (const c of all) byTable[c.TableName ?? '?'] = (byTable[c.TableName ?? '?'] ?? 0) + Number(c.CapacityUnits ?? 0);
  return byTable;
}

export class UsageMeter {
  private usage = emptyUsage();
  private readonly servers: Server[] = [];
  private readonly agent = new Agent({ keepAlive: true });

  constructor(private readonly host = '127.0.0.1') {}

  /** What was counted since the start or the last reset. */
  snapshot(): Usage {
    return structuredClone(this.usage);
  }

  reset(): void {
    this.usage = emptyUsage();
  }

  /** Starts a metering proxy for `service` in front of `target`; resolves to the endpoint functions should use. */
  async proxy(service: MeteredService, target: string): Promise<string> {
    const upstream = new URL(target);
    const server = await listenProxy(this.host, 0, 'metering proxy', (req) => this.handle(service, upstream, req));
    this.servers.push(server);
    return `http://${this.host}:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await closeServers(this.servers);
    this.agent.destroy();
  }

  private count(service: MeteredService, operation: string): void {
    const byOperation = this.usage.requests[service];
    byOperation[operation] = (byOperation[operation] ?? 0) + 1;
  }

  private async handle(service: MeteredService, upstream: URL, req: IncomingMessage): Promise<Forwarded> {
    const body = await readAll(req);
    switch (service) {
      case 'dynamodb':
        return this.dynamodb(upstream, req, body);
      case 'eventbridge':
      case 'sfn':
      case 'secretsmanager': {
        const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
        this.count(service, operation);
        const response = await forward(this.agent, upstream, req, body);
        if (service === 'eventbridge' && operation === 'PutEvents' && response.status === 200) {
          const entries = (parseJson(body)?.Entries ?? []) as unknown[];
          const failed = Number(parseJson(response.body)?.FailedEntryCount ?? 0);
          // Failed entries are not ingested; which ones failed does not change the count enough to matter here.
          const taken = entries.length - failed;
          this.usage.eventbridge.entries += taken;
          this.usage.eventbridge.billedEvents += entries
            .slice(0, taken)
            .reduce(
              (sum: number, entry) =>
                sum + Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(entry)) / EVENT_CHUNK_BYTES)),
              0,
            );
        }
        return response;
      }
      case 'sesv2': {
        const path = (req.url ?? '').split('?')[0] ?? '';
        const sendEmail = req.method === 'POST' && path === '/v2/email/outbound-emails';
        this.count(service, sendEmail ? 'SendEmail' : `${req.method} ${path}`);
        const response = await forward(this.agent, upstream, req, body);
        if (sendEmail && response.status === 200) {
          const input = parseJson(body) ?? {};
          const destination = (input.Destination ?? {}) as Record<string, unknown[] | undefined>;
          const attachments = ((input.Content as Json | undefined)?.Simple as Json | undefined)?.Attachments as
            | { RawContent?: string }[]
            | undefined;
          this.usage.ses.messages++;
          this.usage.ses.recipients +=
            (destination.ToAddresses?.length ?? 0) +
            (destination.CcAddresses?.length ?? 0) +
            (destination.BccAddresses?.length ?? 0);
          // As sent: base64, which is also how the attachment travels in the MIME message SES builds.
          this.usage.ses.attachmentBytes += (attachments ?? []).reduce((n, a) => n + (a.RawContent?.length ?? 0), 0);
        }
        return response;
      }
      case 's3': {
        const method = req.method ?? 'GET';
        this.count(service, method);
        const response = await forward(this.agent, upstream, req, body);
        const path = (req.url ?? '').split('?')[0] ?? '';
        const isObject = path.split('/').filter(Boolean).length > 1;
        if (method === 'GET' || method === 'HEAD') {
          // A GET on the bucket itself is a LIST, billed with the PUTs.
          if (isObject) this.usage.s3.getRequests++;
          else this.usage.s3.putRequests++;
          this.usage.s3.bytesOut += method === 'GET' ? response.body.length : 0;
        } else if (method === 'PUT' || method === 'POST') {
          this.usage.s3.putRequests++;
          this.usage.s3.bytesIn += body.length;
        }
        return response;
      }
    }
  }

  private async dynamodb(upstream: URL, req: IncomingMessage, body: Buffer): Promise<Forwarded> {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
    this.count('dynamodb', operation);
    const isRead = DYNAMODB_READS.has(operation);
    const isWrite = DYNAMODB_WRITES.has(operation);
    const input = isRead || isWrite ? parseJson(body) : undefined;
    const added = input !== undefined && (input.ReturnConsumedCapacity ?? 'NONE') === 'NONE';
    const sent = added ? Buffer.from(JSON.stringify({ ...input, ReturnConsumedCapacity: 'TOTAL' })) : body;
    if (isWrite && input) this.usage.dynamodb.itemWrites += itemWrites(operation, input);
    const response = await forward(this.agent, upstream, req, sent);
    if (!input) return response;
    if (response.status !== 200) {
      if (isWrite && /ConditionalCheckFailed|TransactionCanceled/.test(response.body.toString('utf8')))
        this.usage.dynamodb.failedWrites++;
      return response;
    }
    const output = parseJson(response.body);
    if (!output) return response;
    const metered = this.usage.dynamodb;
    for (const [table, units] of Object.entries(capacityUnits(output.ConsumedCapacity))) {
      const byTable = metered.byTable[table] ?? { readUnits: 0, writeUnits: 0 };
      metered.byTable[table] = byTable;
      metered.byOperation[operation] = (metered.byOperation[operation] ?? 0) + units;
      if (isRead) {
        metered.readUnits += units;
        byTable.readUnits += units;
      } else {
        metered.writeUnits += units;
        byTable.writeUnits += units;
      }
    }
    if (!added) return response;
    // The answer the function would have had without the added parameter, with its checksum.
    delete output.ConsumedCapacity;
    const data = Buffer.from(JSON.stringify(output));
    return {
      status: response.status,
      headers: { ...response.headers, 'content-length': String(data.length), 'x-amz-crc32': String(crc32(data)) },
      body: data,
    };
  }
}
