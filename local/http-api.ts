import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { type ThrottleLimits, TokenBucket } from './throttle.ts';

/**
 * Local API Gateway HTTP API with Lambda proxy integrations (payload format 2.0): builds the same
 * event API Gateway sends, picks the route the way HTTP APIs do and maps the function's result back
 * to an HTTP response. Under overload it behaves like API Gateway too: the stage's throttling (a
 * token bucket per route) answers 429, and no connection is reset.
 */

export interface HttpApiRoute {
  /** `GET /orders/{orderId}`, `ANY /{proxy+}` or `$default`. */
  routeKey: string;
  invoke: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2 | unknown>;
  /** A JWT authorizer route (local/auth/verifier.ts) and its AuthorizationScopes; none: public. */
  authorization?: { authorize: RouteAuthorizer; scopes: string[] };
}

export type RouteAuthorizer = (
  headers: Record<string, string | undefined>,
  scopes: string[],
) => Promise<
  | { outcome: 'allow'; claims: Record<string, string>; scopes: string[] | null }
  | { outcome: 'unauthorized' }
  | { outcome: 'forbidden' }
>;

export interface HttpApiOptions {
  host?: string;
  port?: number;
  apiId: string;
  /** `$default` serves at the root; any other stage name is expected as the first path segment. */
  stage?: string;
  accountId?: string;
  routes: HttpApiRoute[];
  /**
   * The stage's throttling by route key (local/template.ts reads it from the template); routes
   * without an entry, like the local-only ones, are not throttled.
   */
  throttling?: Record<string, ThrottleLimits>;
}

export interface RunningHttpApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** HTTP APIs reject payloads above 10 MB. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY']);

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

interface CompiledRoute {
  routeKey: string;
  /** Undefined for `$default`. */
  method?: string;
  segments: Segment[];
  invoke: HttpApiRoute['invoke'];
  authorization?: HttpApiRoute['authorization'];
}

interface RouteMatch {
  route: CompiledRoute;
  pathParameters: Record<string, string>;
  /** Per-segment specificity (literal 2, variable 1, greedy 0) used to rank candidate routes. */
  rank: number[];
}

const splitPath = (path: string): string[] => (path === '/' || path === '' ? [] : path.split('/').slice(1));

export function compileRoute(route: HttpApiRoute): CompiledRoute {
  if (route.routeKey === '$default')
    return { routeKey: route.routeKey, segments: [], invoke: route.invoke, authorization: route.authorization };
  const match = /^([A-Z]+) (\/\S*)$/.exec(route.routeKey);
  if (!match || !METHODS.has(match[1] as string))
    throw new Error(`Invalid route key ${JSON.stringify(route.routeKey)}`);
  const parts = splitPath(match[2] as string);
  const segments = parts.map((part, i): Segment => {
    const variable = /^\{([A-Za-z0-9._-]+)(\+?)\}$/.exec(part);
    if (variable?.[2]) {
      if (i !== parts.length - 1) throw new Error(`Greedy variable must be last in ${route.routeKey}`);
      return { kind: 'greedy', name: variable[1] as string };
    }
    if (variable) return { kind: 'param', name: variable[1] as string };
    if (part === '' || /[{}]/.test(part))
      throw new Error(`Invalid path segment ${JSON.stringify(part)} in ${route.routeKey}`);
    return { kind: 'literal', value: part };
  });
  return {
    routeKey: route.routeKey,
    method: match[1],
    segments,
    invoke: route.invoke,
    authorization: route.authorization,
  };
}

const decode = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

function matchPath(route: CompiledRoute, parts: string[]): Omit<RouteMatch, 'route'> | undefined {
  const pathParameters: Record<string, string> = {};
  const rank: number[] = [];
  for (const [i, segment] of route.segments.entries()) {
    const part = parts[i];
    if (segment.kind === 'greedy') {
      // A greedy variable needs at least one child resource: `/{proxy+}` does not match `/`.
      const rest = parts.slice(i).join('/');
      if (rest === '') return undefined;
      pathParameters[segment.name] = decode(rest);
      rank.push(0);
      return { pathParameters, rank };
    }
    if (part === undefined || part === '') return undefined;
    if (segment.kind === 'literal') {
      if (segment.value !== part) return undefined;
      rank.push(2);
    } else {
      pathParameters[segment.name] = decode(part);
      rank.push(1);
    }
  }
  return parts.length === route.segments.length ? { pathParameters, rank } : undefined;
}

const compareRanks = (a: number[], b: number[]): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const diff = (b[i] as number) - (a[i] as number);
    if (diff !== 0) return diff;
  }
  return 0;
};

/** Most specific route first: literal beats variable beats greedy, then an exact method beats ANY, `$default` last. */
export function selectRoute(routes: CompiledRoute[], method: string, path: string): RouteMatch | undefined {
  const parts = splitPath(path);
  const candidates: RouteMatch[] = [];
  for (const route of routes) {
    if (route.method === undefined || (route.method !== 'ANY' && route.method !== method)) continue;
    const matched = matchPath(route, parts);
    if (matched) candidates.push({ route, ...matched });
  }
  candidates.sort(
    (a, b) => compareRanks(a.rank, b.rank) || Number(b.route.method !== 'ANY') - Number(a.route.method !== 'ANY'),
  );
  const fallback = routes.find((r) => r.method === undefined);
  return candidates[0] ?? (fallback ? { route: fallback, pathParameters: {}, rank: [] } : undefined);
}

// ---------------------------------------------------------------------------------------------
// Request -> event
// ---------------------------------------------------------------------------------------------

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `28/Nov/2026:02:05:00 +0000`, the CLF-style time API Gateway puts in requestContext. */
export const requestTime = (date: Date): string =>
  `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
  `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;

/** Content types API Gateway passes as text; everything else arrives base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    /^application\/([\w.-]+\+)?(json|xml)$/.test(type) ||
    type === 'application/javascript' ||
    type === 'application/graphql'
  );
}

function isUtf8(buffer: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buffer);
    return true;
  } catch {
    return false;
  }
}

function encodeBody(body: Buffer, contentType: string | undefined): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  // Without a content type there is nothing to go by: pass valid UTF-8 as text.
  const asText = contentType ? isTextContentType(contentType) : isUtf8(body);
  return asText
    ? { body: body.toString('utf8'), isBase64Encoded: false }
    : { body: body.toString('base64'), isBase64Encoded: true };
}

/** Repeated headers are joined with commas; cookies move to their own field. */
function collectHeaders(req: IncomingMessage): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  let cookies: string[] = [];
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') {
      cookies = values
        .flatMap((v) => v.split(';'))
        .map((c) => c.trim())
        .filter(Boolean);
    } else {
      headers[name] = values.join(',');
    }
  }
  return { headers, cookies };
}

function parseQuery(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    params[key] = key in params ? `${params[key]},${value}` : value;
  }
  return Object.keys(params).length > 0 ? params : undefined;
}

const sourceIpOf = (req: IncomingMessage): string => (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');

const newRequestId = (): string => randomBytes(11).toString('base64');

const traceId = (now: Date): string =>
  `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

interface EventContext {
  apiId: string;
  accountId: string;
  stage: string;
  routeKey: string;
  pathParameters: Record<string, string>;
  requestId: string;
  now: Date;
}

export function buildEvent(req: IncomingMessage, rawBody: Buffer, context: EventContext): APIGatewayProxyEventV2 {
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : url.slice(queryAt + 1);
  const { headers, cookies } = collectHeaders(req);
  const sourceIp = sourceIpOf(req);
  // API Gateway adds these on the way in.
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? 80);
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-amzn-trace-id'] ??= traceId(context.now);
  const domainName = headers.host ?? 'localhost';
  const hostname = domainName.replace(/:\d+$/, '');
  const domainPrefix = isIP(hostname.replace(/^\[|\]$/g, '')) ? context.apiId : (hostname.split('.')[0] ?? hostname);
  const query = parseQuery(rawQueryString);
  const hasPathParameters = Object.keys(context.pathParameters).length > 0;

  return {
    version: '2.0',
    routeKey: context.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: context.accountId,
      apiId: context.apiId,
      domainName,
      domainPrefix,
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: context.requestId,
      routeKey: context.routeKey,
      stage: context.stage,
      time: requestTime(context.now),
      timeEpoch: context.now.getTime(),
    },
    ...(hasPathParameters ? { pathParameters: { ...context.pathParameters } } : {}),
    ...encodeBody(rawBody, headers['content-type']),
  } as APIGatewayProxyEventV2;
}

// ---------------------------------------------------------------------------------------------
// Result -> response
// ---------------------------------------------------------------------------------------------

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const jsonResponse = (statusCode: number, value: unknown): HttpResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(value)),
});

/**
 * Payload 2.0 response rules: a result with `statusCode` is taken field by field; anything else is
 * treated as the body of a 200 application/json response (a string as-is, other values as JSON).
 */
export function toHttpResponse(result: unknown): HttpResponse {
  const structured = typeof result === 'object' && result !== null && !Array.isArray(result) && 'statusCode' in result;
  if (!structured) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
  }
  const { statusCode, headers = {}, body, cookies, isBase64Encoded } = result as Record<string, unknown>;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new Error(`Malformed Lambda proxy response: statusCode ${JSON.stringify(statusCode)}`);
  }
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (value !== undefined && value !== null) out[name.toLowerCase()] = String(value);
  }
  out['content-type'] ??= 'application/json';
  if (Array.isArray(cookies) && cookies.length > 0) {
    const existing = out['set-cookie'];
    out['set-cookie'] = [...(existing ? [existing as string] : []), ...cookies.map(String)];
  }
  const text = body === undefined || body === null ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return { statusCode, headers: out, body: isBase64Encoded ? Buffer.from(text, 'base64') : Buffer.from(text) };
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/**
 * Connections the kernel queues until the server accepts them (capped by net.core.somaxconn). Node's
 * 511 is too few for a crowd arriving at once while the event loop is busy: the connections past it
 * are reset.
 */
export const LISTEN_BACKLOG = 4096;
/** How much longer than the advertised keep-alive timeout (5 s) an idle connection stays open. */
export const KEEP_ALIVE_TIMEOUT_BUFFER_MS = 60_000;

class PayloadTooLarge extends Error {}

/** Reads the whole body; past the limit it keeps draining (so the client sees the 413) but stops buffering. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  let tooLarge = declared > MAX_BODY_BYTES;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    if (!tooLarge) chunks.push(chunk as Buffer);
  }
  if (tooLarge) throw new PayloadTooLarge();
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, response: HttpResponse, requestId: string): void {
  res.writeHead(response.statusCode, {
    ...response.headers,
    'content-length': response.body.length,
    'apigw-requestid': requestId,
  });
  res.end(response.body);
}

export async function startHttpApi(options: HttpApiOptions): Promise<RunningHttpApi> {
  const routes = options.routes.map(compileRoute);
  const keys = new Set<string>();
  for (const route of routes) {
    if (keys.has(route.routeKey)) throw new Error(`Duplicate route key ${route.routeKey}`);
    keys.add(route.routeKey);
  }
  const buckets = new Map<string, TokenBucket>();
  for (const [routeKey, limits] of Object.entries(options.throttling ?? {})) {
    if (!keys.has(routeKey)) throw new Error(`Throttling for ${routeKey}, which is not a route`);
    buckets.set(routeKey, new TokenBucket(limits));
  }
  const stage = options.stage ?? '$default';
  const accountId = options.accountId ?? '000000000000';

  /** Named stages are addressed as the first path segment; the event's rawPath keeps it, routing does not. */
  const routingPath = (rawPath: string): string | undefined => {
    if (stage === '$default') return rawPath;
    const prefix = `/${stage}`;
    if (rawPath === prefix) return '/';
    return rawPath.startsWith(`${prefix}/`) ? rawPath.slice(prefix.length) : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestId = newRequestId();
    const now = new Date();
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      if (error instanceof PayloadTooLarge) {
        send(res, jsonResponse(413, { message: 'Request Entity Too Large' }), requestId);
        return;
      }
      throw error;
    }
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    const path = routingPath(rawPath);
    const match = path === undefined ? undefined : selectRoute(routes, req.method ?? 'GET', path);
    if (!match) {
      send(res, jsonResponse(404, { message: 'Not Found' }), requestId);
      return;
    }
    // Throttling comes first: a throttled request reaches neither the authorizer nor the function.
    if (buckets.get(match.route.routeKey)?.take() === false) {
      send(res, jsonResponse(429, { message: 'Too Many Requests' }), requestId);
      return;
    }
    // The authorizer runs before the integration: 401 without a valid token, 403 without a route scope.
    let authorizer: { jwt: { claims: Record<string, string>; scopes: string[] | null } } | undefined;
    if (match.route.authorization) {
      const { authorize, scopes } = match.route.authorization;
      const result = await authorize(
        Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, [v].flat().join(',')])),
        scopes,
      );
      if (result.outcome === 'unauthorized') {
        send(res, jsonResponse(401, { message: 'Unauthorized' }), requestId);
        return;
      }
      if (result.outcome === 'forbidden') {
        send(res, jsonResponse(403, { message: 'Forbidden' }), requestId);
        return;
      }
      authorizer = { jwt: { claims: result.claims, scopes: result.scopes } };
    }
    const event = buildEvent(req, body, {
      apiId: options.apiId,
      accountId,
      stage,
      routeKey: match.route.routeKey,
      pathParameters: match.pathParameters,
      requestId,
      now,
    });
    if (authorizer) (event.requestContext as unknown as Record<string, unknown>).authorizer = authorizer;
    let response: HttpResponse;
    try {
      response = toHttpResponse(await match.route.invoke(event));
    } catch (error) {
      console.error(`[http-api] ${match.route.routeKey} (${req.method} ${rawPath}) failed:`, error);
      response = jsonResponse(500, { message: 'Internal Server Error' });
    }
    send(res, response, requestId);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('[http-api] request failed:', error);
      if (!res.headersSent) send(res, jsonResponse(500, { message: 'Internal Server Error' }), newRequestId());
      else res.destroy();
    });
  });

  // Clients close idle keep-alive connections first: the answers still advertise `Keep-Alive:
  // timeout=5`, but the server holds an idle connection a minute longer. Otherwise, when the event
  // loop lags by seconds under load, the server's idle timer fires before the client's and a request
  // the client has just written on that connection meets a reset.
  server.keepAliveTimeoutBuffer = KEEP_ALIVE_TIMEOUT_BUFFER_MS;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host, backlog: LISTEN_BACKLOG }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: stage === '$default' ? base : `${base}/${stage}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
