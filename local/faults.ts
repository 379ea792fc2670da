import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, createServer, type IncomingHttpHeaders, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Fault injection at the emulator boundary: a small HTTP proxy in front of each AWS endpoint the
 * functions use. A picked request fails either BEFORE the service sees it (throttling or a 5xx,
 * in the service's own wire format, so the AWS SDK parses it as the real service's retryable
 * error) or AFTER the service acted (the request is forwarded, the real response dropped and a 5xx
 * returned: the caller cannot tell whether its write happened). Handler code is untouched; the
 * SDK's standard retry settings (AWS_MAX_ATTEMPTS) decide how many faults reach it.
 */

export const FAULT_SERVICES = ['dynamodb', 'sfn', 'eventbridge', 'secretsmanager', 'sesv2', 's3'] as const;
export type FaultService = (typeof FAULT_SERVICES)[number];
export type FaultKind = 'before' | 'after';

export interface ServiceFaultCounts {
  /** Requests that reached the proxy while injection was on (rate above 0). */
  requests: number;
  /** Failed before the service acted. */
  before: number;
  /** Forwarded, then the response was replaced by a 5xx. */
  after: number;
}

export interface FaultCounts {
  rate: number;
  total: ServiceFaultCounts;
  byService: Record<FaultService, ServiceFaultCounts>;
}

interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Protocol = 'awsJson1_0' | 'awsJson1_1' | 'restJson1' | 'restXml';

const PROTOCOL: Record<FaultService, Protocol> = {
  dynamodb: 'awsJson1_0',
  sfn: 'awsJson1_0',
  eventbridge: 'awsJson1_1',
  secretsmanager: 'awsJson1_1',
  sesv2: 'restJson1',
  s3: 'restXml',
};

/** Each service's own throttling and internal errors, as documented in its API reference. */
const ERRORS: Record<FaultService, { throttle: [number, string, string]; internal: [number, string, string] }> = {
  dynamodb: {
    throttle: [
      400,
      'com.amazonaws.dynamodb.v20120810#ThrottlingException',
      'Rate of requests exceeds the allowed throughput.',
    ],
    internal: [500, 'com.amazonaws.dynamodb.v20120810#InternalServerError', 'Internal server error'],
  },
  sfn: {
    throttle: [400, 'ThrottlingException', 'Rate exceeded'],
    internal: [500, 'InternalFailure', 'The request processing has failed because of an unknown error.'],
  },
  eventbridge: {
    throttle: [400, 'ThrottlingException', 'Rate exceeded'],
    internal: [500, 'InternalException', 'An internal error occurred.'],
  },
  secretsmanager: {
    throttle: [400, 'ThrottlingException', 'Rate exceeded'],
    internal: [500, 'InternalServiceError', 'An error occurred on the server side.'],
  },
  sesv2: {
    throttle: [429, 'TooManyRequestsException', 'Too many requests have been made to the operation.'],
    internal: [500, 'InternalFailure', 'The request processing has failed because of an unknown error.'],
  },
  s3: {
    throttle: [503, 'SlowDown', 'Please reduce your request rate.'],
    internal: [500, 'InternalError', 'We encountered an internal error. Please try again.'],
  },
};

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The error response `service` sends, in its protocol's wire format. */
export function faultResponse(service: FaultService, kind: 'throttle' | 'internal', method = 'POST'): ErrorResponse {
  const [status, code, message] = ERRORS[service][kind];
  const requestId = randomUUID();
  let headers: Record<string, string>;
  let body: string;
  switch (PROTOCOL[service]) {
    case 'awsJson1_0':
    case 'awsJson1_1':
      headers = {
        'content-type': `application/x-amz-json-${PROTOCOL[service] === 'awsJson1_0' ? '1.0' : '1.1'}`,
        'x-amzn-requestid': requestId,
      };
      body = JSON.stringify({ __type: code, message });
      break;
    case 'restJson1':
      headers = { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': code };
      body = JSON.stringify({ message });
      break;
    case 'restXml': {
      const hostId = randomBytes(24).toString('base64');
      headers = { 'content-type': 'application/xml', 'x-amz-request-id': requestId, 'x-amz-id-2': hostId };
      body =
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
        `<RequestId>${requestId}</RequestId><HostId>${hostId}</HostId></Error>`;
      break;
    }
  }
  // A HEAD response has no body (S3 HeadObject errors carry only the status).
  if (method === 'HEAD') body = '';
  return { status, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, body };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade', 'proxy-connection']);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

export async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface FaultInjectorOptions {
  /** Fraction of requests to fail, 0..1 (default 0: a transparent proxy). */
  rate?: number;
  /** Source of randomness in [0, 1), replaceable for deterministic tests. */
  random?: () => number;
  host?: string;
}

export interface FaultProxy {
  service: FaultService;
  /** Where the functions send their requests for this service. */
  endpoint: string;
  /** The real emulator behind it. */
  target: string;
}

/** Proxies for the services, sharing one fault rate and one set of counts. */
export class FaultInjector {
  private rateValue: number;
  private readonly random: () => number;
  private readonly host: string;
  private readonly servers: Server[] = [];
  private readonly agent = new Agent({ keepAlive: true });
  private readonly counts = new Map<FaultService, ServiceFaultCounts>(
    FAULT_SERVICES.map((service) => [service, { requests: 0, before: 0, after: 0 }]),
  );

  constructor(options: FaultInjectorOptions = {}) {
    this.rateValue = checkRate(options.rate ?? 0);
    this.random = options.random ?? Math.random;
    this.host = options.host ?? '127.0.0.1';
  }

  get rate(): number {
    return this.rateValue;
  }

  /** Changes the fault rate from now on (0 turns injection off; the proxies keep forwarding). */
  setRate(rate: number): void {
    this.rateValue = checkRate(rate);
  }

  /** Starts a proxy for `service` in front of `target` (e.g. `http://127.0.0.1:8000`) on `port` (0: any free one). */
  async proxy(service: FaultService, target: string, port = 0): Promise<FaultProxy> {
    const upstream = new URL(target);
    const server = await listenProxy(this.host, port, 'fault proxy', (req) => this.handle(service, upstream, req));
    this.servers.push(server);
    const { port: bound } = server.address() as AddressInfo;
    return { service, endpoint: `http://${this.host}:${bound}`, target };
  }

  /** Serves the counts as JSON at `GET /faults` on `port` (0: any free one); resolves to the server's base URL. */
  async serveCounts(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url?.split('?')[0] === '/faults') {
        const body = JSON.stringify(this.snapshot(), null, 2);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'GET /faults' }));
      }
    });
    await listen(server, this.host, port);
    this.servers.push(server);
    return `http://${this.host}:${(server.address() as AddressInfo).port}`;
  }

  /** What was injected so far, by service. */
  snapshot(): FaultCounts {
    const byService = Object.fromEntries(
      [...this.counts].map(([service, counts]) => [service, { ...counts }]),
    ) as Record<FaultService, ServiceFaultCounts>;
    const total = { requests: 0, before: 0, after: 0 };
    for (const counts of Object.values(byService)) {
      total.requests += counts.requests;
      total.before += counts.before;
      total.after += counts.after;
    }
    return { rate: this.rateValue, total, byService };
  }

  async close(): Promise<void> {
    await closeServers(this.servers);
    this.agent.destroy();
  }

  /** Picks the request's fate: most pass; of the picked ones half fail before, half after. */
  private pick(): FaultKind | undefined {
    if (this.rateValue <= 0) return undefined;
    const draw = this.random();
    if (draw >= this.rateValue) return undefined;
    return draw < this.rateValue / 2 ? 'before' : 'after';
  }

  private async handle(service: FaultService, upstream: URL, req: IncomingMessage): Promise<ErrorResponse | Forwarded> {
    const counts = this.counts.get(service) as ServiceFaultCounts;
    if (this.rateValue > 0) counts.requests++;
    const body = await readAll(req);
    const fault = this.pick();
    if (fault === 'before') {
      counts.before++;
      return faultResponse(service, this.random() < 0.5 ? 'throttle' : 'internal', req.method);
    }
    const response = await forward(this.agent, upstream, req, body);
    if (fault === 'after') {
      counts.after++;
      return faultResponse(service, 'internal', req.method);
    }
    return response;
  }
}

/**
 * A proxy server on `host:port` (0: any free one) answering each request with `handle`'s answer; an
 * upstream that cannot be reached is a 502 naming `label`, what a client sees from a dead endpoint.
 */
export async function listenProxy(
  host: string,
  port: number,
  label: string,
  handle: (req: IncomingMessage) => Promise<Omit<Forwarded, 'body'> & { body: Buffer | string }>,
): Promise<Server> {
  const server = createServer((req, res) => {
    handle(req).then(
      ({ status, headers, body }) => {
        res.writeHead(status, headers);
        res.end(body);
      },
      (error: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`${label}: ${(error as Error).message}`);
      },
    );
  });
  await listen(server, host, port);
  return server;
}

async function listen(server: Server, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

/** Closes the servers, dropping their open connections. */
export async function closeServers(servers: readonly Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
}

/** An emulator's answer, read whole. */
export interface Forwarded {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Sends `req` (its body already read) on to `upstream` as the client sent it; resolves with the whole answer. */
export function forward(agent: Agent, upstream: URL, req: IncomingMessage, body: Buffer): Promise<Forwarded> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        // Host stays as the client signed it; the emulators route by path, not by host.
        headers: { ...forwardable(req.headers), 'content-length': String(body.length) },
        agent,
      },
      (response) => {
        readAll(response).then(
          (data) =>
            resolve({
              status: response.statusCode ?? 502,
              headers: {
                ...(forwardable(response.headers) as Record<string, string | string[]>),
                ...(req.method === 'HEAD' ? {} : { 'content-length': String(data.length) }),
              },
              body: data,
            }),
          reject,
        );
      },
    );
    outgoing.once('error', reject);
    outgoing.end(body);
  });
}

function checkRate(rate: number): number {
  if (!Number.isFinite(rate) || rate < 0 || rate > 1)
    throw new Error(`The fault rate must be between 0 and 1, got ${rate}`);
  return rate;
}

/** Reads `LOCAL_FAULT_RATE` (unset or empty: 0, no faults). */
export function faultRateFromEnv(raw = process.env.LOCAL_FAULT_RATE): number {
  if (raw === undefined || raw.trim() === '') return 0;
  const rate = Number(raw);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new Error(`LOCAL_FAULT_RATE must be a fraction between 0 and 1 (e.g. 0.1), got "${raw}"`);
  }
  return rate;
}
