import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/core/protocols';
import { Hash, streamCollector } from '@smithy/core/serde';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { backoff } from '../backoff.ts';
import { isNetworkError } from '../network-errors.ts';

/*
 * S3's REST API for the three calls the functions make (put an object, get one, head a bucket): signed
 * with SigV4 by the SDK's own signer, sent by its HTTP handler, with its default credential chain —
 * all three already in every bundle with the DynamoDB client. `@aws-sdk/client-s3` builds S3's whole
 * service model at import: about 140 KB and a third of a lean function's INIT, in each of the six
 * functions that store or read documents, for these three calls.
 *
 * Path-style addressing always (bucket in the path): AWS serves it, and a custom endpoint on
 * 127.0.0.1 has no bucket sub-domains. The endpoint is the SDK's: `AWS_ENDPOINT_URL_S3`, else
 * `AWS_ENDPOINT_URL`, else the region's.
 */

export interface S3Call {
  method: 'GET' | 'PUT' | 'HEAD';
  bucket: string;
  /** The object's key; none for a call on the bucket. */
  key?: string;
  body?: Uint8Array;
  contentType?: string;
}

/** An S3 error response, named by its code (`NoSuchKey`, `SlowDown`, ...) like the SDK names its errors. */
export class S3Error extends Error {
  readonly $metadata: { httpStatusCode: number };

  constructor(code: string, statusCode: number, message: string) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: statusCode };
  }
}

/** Attempts per call, as the SDK's standard retry mode makes them, unless `AWS_MAX_ATTEMPTS` (the SDK's setting) says. */
export const S3_MAX_ATTEMPTS = 3;
const RETRY_BASE_MS = 100;
const RETRY_CAP_MS = 2_000;
/** The SDK's retryable statuses and S3's throttling and transient error codes. */
const TRANSIENT_STATUSES = new Set([429, 500, 502, 503, 504]);
const TRANSIENT_CODES = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable', 'Throttling']);

/** How long a call may take to connect, and then to answer or go silent mid-answer, before it is given up. */
export interface S3Timeouts {
  connectMs: number;
  requestMs: number;
}
const DEFAULT_TIMEOUTS: S3Timeouts = { connectMs: 3_000, requestMs: 10_000 };

interface Connection {
  endpoint: URL;
  signer: SignatureV4;
  http: NodeHttpHandler;
  maxAttempts: number;
}

let connection: Connection | undefined;
let timeouts = DEFAULT_TIMEOUTS;

/** Created on first use (see dynamodb.ts), from the environment as it is then. */
function connect(): Connection {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const attempts = Number(process.env.AWS_MAX_ATTEMPTS);
  connection ??= {
    endpoint: new URL(
      process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? `https://s3.${region}.amazonaws.com`,
    ),
    // S3 signs the path as sent (no second encoding) and wants the payload's hash in x-amz-content-sha256.
    signer: new SignatureV4({
      service: 's3',
      region,
      credentials: defaultProvider(),
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: false,
      applyChecksum: true,
    }),
    // The handler only warns about a slow answer unless told to throw; the socket timeout covers a stalled body.
    http: new NodeHttpHandler({
      connectionTimeout: timeouts.connectMs,
      requestTimeout: timeouts.requestMs,
      socketTimeout: timeouts.requestMs,
      throwOnRequestTimeout: true,
    }),
    maxAttempts: Number.isInteger(attempts) && attempts >= 1 ? attempts : S3_MAX_ATTEMPTS,
  };
  return connection;
}

/** RFC 3986 encoding of each segment of a key, its slashes kept: the path S3 signs and serves. */
export function objectPath(bucket: string, key?: string): string {
  const encode = (segment: string) =>
    encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `/${encode(bucket)}${key === undefined ? '' : `/${key.split('/').map(encode).join('/')}`}`;
}

/** The request as signed and sent. */
async function signedRequest(call: S3Call): Promise<HttpRequest> {
  const { endpoint, signer } = connect();
  const base = endpoint.pathname.replace(/\/$/, '');
  const request = new HttpRequest({
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    method: call.method,
    path: `${base}${objectPath(call.bucket, call.key)}`,
    headers: {
      host: endpoint.host,
      ...(call.body ? { 'content-length': String(call.body.byteLength) } : {}),
      ...(call.contentType ? { 'content-type': call.contentType } : {}),
    },
    body: call.body,
  });
  return (await signer.sign(request)) as HttpRequest;
}

/** One attempt: the response's body (read whole, also on an error, so the connection is free again). */
async function attempt(call: S3Call): Promise<Uint8Array> {
  const { http } = connect();
  const { response } = await http.handle(await signedRequest(call));
  const body = response.body ? await streamCollector(response.body) : new Uint8Array();
  if (response.statusCode >= 200 && response.statusCode < 300) return body;
  throw errorOf(response.statusCode, new TextDecoder().decode(body));
}

/** The error an S3 error response names; a HEAD's has no body, so its status names it. */
export function errorOf(statusCode: number, xml: string): S3Error {
  const code = /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];
  const byStatus: Record<number, string> = { 301: 'PermanentRedirect', 403: 'Forbidden', 404: 'NotFound' };
  const name = code ?? byStatus[statusCode] ?? (statusCode >= 500 ? 'InternalError' : 'UnknownError');
  return new S3Error(name, statusCode, message ?? `S3 answered ${statusCode}`);
}

/** Whether another attempt may succeed: throttling, a server error, a connection that broke. */
export function isTransient(error: unknown): boolean {
  if (error instanceof S3Error)
    return TRANSIENT_STATUSES.has(error.$metadata.httpStatusCode) || TRANSIENT_CODES.has(error.name);
  return isNetworkError(error);
}

/**
 * One S3 call, retried (S3_MAX_ATTEMPTS or `AWS_MAX_ATTEMPTS` attempts, full-jitter backoff) while S3
 * throttles, fails on its side, or the connection breaks or goes silent. Every call made here is
 * idempotent: a put writes the same bytes again.
 */
export async function s3Send(call: S3Call): Promise<Uint8Array> {
  const { maxAttempts } = connect();
  for (let tries = 1; ; tries++) {
    try {
      return await attempt(call);
    } catch (error) {
      if (tries >= maxAttempts || !isTransient(error)) throw error;
      await backoff(tries, RETRY_BASE_MS, RETRY_CAP_MS);
    }
  }
}

/** Forgets the connection, so the next call reads the environment again (tests: another endpoint, shorter timeouts). */
export function resetS3Connection(next: S3Timeouts = DEFAULT_TIMEOUTS): void {
  connection = undefined;
  timeouts = next;
}
