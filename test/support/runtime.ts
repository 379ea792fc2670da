import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, SFNClient } from '@aws-sdk/client-sfn';
import { ROLES, ROUTE_ACCESS, type RoleName } from '../../functions/core/access.ts';
import { signPayload } from '../../functions/core/signature.ts';
import { demoSecret } from '../../local/auth/demo-clients.ts';
import { isPortTaken } from '../../local/ports.ts';
import { type LocalRuntime, type RuntimeOptions, startLocalRuntime } from '../../local/runtime.ts';

export const WEBHOOK_SECRET = 'test-carrier-secret';
const FREE_PORTS = { api: 0, dynamodb: 0, ses: 0, stepfunctions: 0, eventbridge: 0, s3: 0, secretsmanager: 0, auth: 0 };

/**
 * The local runtime on free ports, as `npm start` builds it, with test knobs. The runtime leaves
 * this process's environment alone; the tests' own checks use the functions' adapters directly, so
 * the test process takes the functions' configuration (tables, endpoints, credentials) for itself.
 * Its tables live in the run's shared DynamoDB Local (test/support/shared-dynamodb.ts), in a
 * database of their own: `runtime.credentials` reach them.
 */
export async function startTestRuntime(options: RuntimeOptions = {}): Promise<LocalRuntime> {
  // Loaded here: it imports vitest, which the benches (which use this module's client) need not carry.
  const { ownDatabase } = await import('./database.ts');
  const start = () => {
    // A database of its own for each attempt: a failed one may have left tables behind.
    return startLocalRuntime({
      dynamodb: ownDatabase(),
      ports: FREE_PORTS,
      webhookSecret: WEBHOOK_SECRET,
      environment: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
      // Lambda's retries of failed event deliveries, compressed from minutes.
      asyncRetryDelaysMs: [200, 500],
      // Two environments per function whatever the machine, so the tests' races (two calls of one
      // function at once) happen on every machine as in Lambda.
      maxEnvironments: 2,
      ...options,
    });
  };
  let runtime: LocalRuntime | undefined;
  for (let attempt = 1; !runtime; attempt++) {
    try {
      runtime = await start();
    } catch (error) {
      // A port is free only once its emulator binds it; another process can take it first.
      const freePortsOnly = Object.values({ ...FREE_PORTS, ...options.ports }).every((port) => port === 0);
      if (attempt >= 3 || !freePortsOnly || !isPortTaken(error)) throw error;
    }
  }
  Object.assign(process.env, runtime.functionEnvironment());
  delete process.env.AWS_PROFILE;
  return runtime;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How long a test waits by default for the workflow to get somewhere: seconds on a quiet 2-core machine,
 * but a slow one running two test files at once (clean-clone CI) has needed more than 20 s for an order's
 * two shipments. Waiting returns as soon as the condition holds, so only a failure waits it out.
 */
export const WAIT_MS = 60_000;

/** The longest pause between two polls of `eventually`. */
export const POLL_CAP_MS = 500;

/**
 * Polls until `check` returns a value (not undefined) or the time is up. The pause starts at
 * `intervalMs` and grows by half each time up to POLL_CAP_MS: a poll of an order goes through the
 * API, the authorizer, a function and DynamoDB Local, so polling a long wait every 100 ms took a
 * good part of the cores the workflow under test needs.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = WAIT_MS,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let pause = intervalMs;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(pause);
    pause = Math.max(intervalMs, Math.min(POLL_CAP_MS, pause * 1.5));
  }
  throw new Error(`Condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

/** Route templates of the API, to pick a client that may call a path. */
const ROUTES = Object.entries(ROUTE_ACCESS).map(([key, access]) => {
  const [method, template] = key.split(' ') as [string, string];
  const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+').replace(/\./g, '\\.')}$`);
  return { method, pattern, access };
});

/** The demo client a test acts as by default on a route: the first whose role holds one of its scopes. */
export function defaultClientFor(method: string, path: string): string | null {
  const route = ROUTES.find((r) => r.method === method && r.pattern.test(path.split('?')[0] as string));
  if (!route || route.access === 'public') return null;
  const access = route.access;
  const candidates: RoleName[] = ['checkout', 'erp', 'rep', 'ops', 'finance', 'approver'];
  return candidates.find((role) => ROLES[role].scopes.some((s) => access.includes(s))) ?? null;
}

type TokenCache = Map<string, { token: string; expiresAt: number }>;

/**
 * Talks to the local runtime as the API's clients do: every call carries a real access token
 * from the local issuer (client-credentials grant over HTTP). `as('buyer')` picks the client;
 * `as(null)` sends no token. Without `as`, each helper uses a client allowed to do its job
 * (orders as checkout, on-account orders as a rep, stock as erp, customers as rep).
 */
const pendingTokens = new Map<string, Promise<string>>();

/** One Step Functions client per runtime: building one resolves its configuration anew (files on disk included), and `as()` makes a TestClient per request. */
const sfnClients = new WeakMap<LocalRuntime, SFNClient>();

export class TestClient {
  constructor(
    readonly runtime: LocalRuntime,
    readonly identity?: string | null,
    private readonly tokens: TokenCache = new Map(),
  ) {}

  get sfn(): SFNClient {
    let client = sfnClients.get(this.runtime);
    if (!client) {
      client = new SFNClient({
        region: 'us-east-1',
        endpoint: this.runtime.urls.stepfunctions,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      sfnClients.set(this.runtime, client);
    }
    return client;
  }

  /** The same client acting as another demo client (`null`: no token at all). */
  as(clientId: string | null): TestClient {
    return new TestClient(this.runtime, clientId, this.tokens);
  }

  private who(fallback: string | null): string | null {
    return this.identity === undefined ? fallback : this.identity;
  }

  /** An access token for a demo client, asked of the local issuer like a client asks Cognito. */
  async token(clientId: string, scopes: string[] = []): Promise<string> {
    const cacheKey = `${clientId} ${scopes.join(' ')}`;
    const cached = this.tokens.get(cacheKey);
    if (cached && cached.expiresAt > Date.now() + 60_000) return cached.token;
    // Concurrent calls share one token request, as a client's token cache would.
    const pendingKey = `${this.runtime.urls.auth} ${cacheKey}`;
    const pending = pendingTokens.get(pendingKey);
    if (pending) return pending;
    const request = this.requestToken(clientId, scopes, cacheKey).finally(() => pendingTokens.delete(pendingKey));
    pendingTokens.set(pendingKey, request);
    return request;
  }

  private async requestToken(clientId: string, scopes: string[], cacheKey: string): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    const response = await fetch(`${this.runtime.urls.auth}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${demoSecret(clientId)}`).toString('base64')}`,
      },
      body: form,
    });
    const answer = (await response.json()) as { access_token?: string; expires_in?: number; error?: string };
    if (!response.ok || !answer.access_token)
      throw new Error(`token for ${clientId}: ${response.status} ${answer.error ?? ''}`);
    this.tokens.set(cacheKey, {
      token: answer.access_token,
      expiresAt: Date.now() + (answer.expires_in ?? 0) * 1000,
    });
    return answer.access_token;
  }

  /**
   * A request as a well-behaved client makes it: a `429` (the stage's throttling) is retried after a
   * backoff (exponential, full jitter), as the AWS SDKs retry throttling. `rawRequest` answers the 429, with the headers.
   */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    for (let attempt = 1; ; attempt++) {
      const { status, body: answer } = await this.rawRequest(method, path, body, headers);
      if (status !== 429 || attempt >= 10) return { status, body: answer };
      await sleep(Math.random() * Math.min(5_000, 100 * 2 ** attempt));
    }
  }

  async rawRequest(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const clientId = this.who(defaultClientFor(method, path));
    const hasAuthorization = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
    const auth: Record<string, string> =
      clientId && !hasAuthorization ? { authorization: `Bearer ${await this.token(clientId)}` } : {};
    const response = await fetch(`${this.runtime.urls.api}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...auth, ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, any>) : undefined,
      headers: response.headers,
    };
  }

  async placeOrder(order: unknown, idempotencyKey = `key-${crypto.randomUUID()}`): Promise<string> {
    // The web checkout may not bill on account: such orders are a rep's by default.
    const onAccount = (order as { payment?: { method?: string } } | null)?.payment?.method === 'on_account';
    const response = await this.as(this.who(onAccount ? 'rep' : 'checkout')).request('POST', '/orders', order, {
      'idempotency-key': idempotencyKey,
    });
    if (response.status !== 202)
      throw new Error(`POST /orders answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body?.orderId as string;
  }

  async order(orderId: string) {
    const response = await this.as(this.who('checkout')).request('GET', `/orders/${orderId}`);
    return response.body as Record<string, any>;
  }

  async product(sku: string) {
    const response = await this.as(this.who('checkout')).request('GET', '/products');
    return (response.body as unknown as Record<string, any>[]).find((p) => p.sku === sku) as Record<string, any>;
  }

  /** Makes `available` sellable in the default warehouse and nothing more elsewhere (what is reserved stays). */
  async setStock(sku: string, available: number) {
    const product = await this.product(sku);
    const warehouses = (product?.warehouses ?? []) as { warehouseId: string; reserved: number }[];
    const berlin = warehouses.find((w) => w.warehouseId === 'WH-BERLIN')?.reserved ?? 0;
    for (const w of warehouses.filter((w) => w.warehouseId !== 'WH-BERLIN'))
      await this.setOnHand(sku, w.reserved, w.warehouseId);
    await this.setOnHand(sku, available + berlin, 'WH-BERLIN');
  }

  async setOnHand(sku: string, onHand: number, warehouseId?: string) {
    const response = await this.as(this.who('erp')).request('PUT', `/products/${sku}/stock`, { onHand, warehouseId });
    if (response.status !== 200) throw new Error(`PUT stock answered ${response.status}`);
    return response.body;
  }

  async customers() {
    const response = await this.as(this.who('rep')).request('GET', '/customers');
    return response.body as unknown as Record<string, any>[];
  }

  executionArn(orderId: string): string {
    return `${this.runtime.stateMachineArn.replace(':stateMachine:', ':execution:')}:${orderId}`;
  }

  /** Waits for the order's workflow execution to end and returns its description. */
  async finished(orderId: string, timeoutMs = WAIT_MS): Promise<DescribeExecutionCommandOutput> {
    return eventually(
      async () => {
        const execution = await this.sfn.send(
          new DescribeExecutionCommand({ executionArn: this.executionArn(orderId) }),
        );
        return execution.status === 'RUNNING' ? undefined : execution;
      },
      timeoutMs,
      100,
    );
  }

  /**
   * Waits for many orders' executions to end, looking only at those still running, twice a second: fifty
   * pollers at 10 a second each would compete with the workflow they wait for. On time-out it names the
   * orders still running and where each stands.
   */
  async allFinished(orderIds: string[], timeoutMs = 2 * WAIT_MS): Promise<DescribeExecutionCommandOutput[]> {
    const ended = new Map<string, DescribeExecutionCommandOutput>();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const orderId of orderIds.filter((id) => !ended.has(id))) {
        const execution = await this.sfn.send(
          new DescribeExecutionCommand({ executionArn: this.executionArn(orderId) }),
        );
        if (execution.status !== 'RUNNING') ended.set(orderId, execution);
      }
      if (ended.size === orderIds.length) return orderIds.map((id) => ended.get(id) as DescribeExecutionCommandOutput);
      if (Date.now() > deadline) break;
      await sleep(500);
    }
    const running = orderIds.filter((id) => !ended.has(id));
    const where = await Promise.all(running.map(async (id) => `${id} (${(await this.order(id)).status})`));
    throw new Error(
      `${running.length} of ${orderIds.length} executions still running after ${timeoutMs} ms: ${where.join(', ')}`,
    );
  }

  async waitForStatus(orderId: string, status: string, timeoutMs = WAIT_MS) {
    return eventually(async () => {
      const order = await this.order(orderId);
      return order.status === status ? order : undefined;
    }, timeoutMs);
  }

  /** Posts a carrier event to the webhook, signed like the carrier signs it. */
  async carrierEvent(
    trackingNumber: string,
    status: string,
    secret = WEBHOOK_SECRET,
    timestamp = Math.floor(Date.now() / 1000),
  ) {
    const body = JSON.stringify({ trackingNumber, status, occurredAt: new Date().toISOString() });
    return this.request('POST', '/webhooks/carrier', body, {
      'x-timestamp': String(timestamp),
      'x-signature': signPayload(secret, timestamp, body),
    });
  }

  /** The approvers' e-mail for an order waiting in AwaitApproval, with its link's approval id and signature. */
  async approvalRequest(orderId: string) {
    const mail = await eventually(async () =>
      (await this.sentEmails()).find((e) => String(e.subject).includes(`Approval needed: order ${orderId}`)),
    );
    const text = String(mail.body.text);
    const link = /POST (\S+\/approvals\/(apr-[0-9a-f]{32})\?signature=([0-9a-f]{64}))/.exec(text);
    if (!link) throw new Error(`No decision link in: ${text}`);
    return { mail, text, url: link[1] as string, approvalId: link[2] as string, signature: link[3] as string };
  }

  /** An approver's decision (as the approver demo client unless `as` says otherwise). */
  decideApproval(approvalId: string, body: Record<string, unknown>) {
    return this.as(this.who('approver')).request('POST', `/approvals/${approvalId}`, body);
  }

  async sentEmails(): Promise<Record<string, any>[]> {
    const response = await fetch(`${this.runtime.urls.ses}/store`);
    const store = (await response.json()) as { emails: Record<string, any>[] };
    return store.emails;
  }
}

export const address = { name: 'Jane Doe', line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' };

export function orderBody(overrides: Record<string, unknown> = {}) {
  return {
    customerId: 'CUST-1002',
    currency: 'EUR',
    lines: [
      { sku: 'WIDGET-BLUE', quantity: 2, unitPrice: 1250 },
      { sku: 'GADGET-MINI', quantity: 1, unitPrice: 3900 },
    ],
    shippingAddress: address,
    payment: { method: 'card', token: 'tok_visa' },
    ...overrides,
  };
}

/** Moves the handlers' clock (functions/lib/deps.ts) forward in this process; 0 puts it back. */
export function shiftClock(ms: number): void {
  (globalThis as Record<symbol, unknown>)[Symbol.for('sales-orders.clock-offset-ms')] = ms;
}
