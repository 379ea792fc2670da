import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, SFNClient } from '@aws-sdk/client-sfn';
import { signPayload } from '../../functions/core/signature.ts';
import { type LocalRuntime, type RuntimeOptions, startLocalRuntime } from '../../local/runtime.ts';

export const WEBHOOK_SECRET = 'test-carrier-secret';
const FREE_PORTS = { api: 0, dynamodb: 0, ses: 0, stepfunctions: 0, eventbridge: 0, s3: 0, secretsmanager: 0 };

/** The local runtime on free ports, as `npm start` builds it, with test knobs. */
export function startTestRuntime(options: RuntimeOptions = {}): Promise<LocalRuntime> {
  return startLocalRuntime({
    ports: FREE_PORTS,
    webhookSecret: WEBHOOK_SECRET,
    environment: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
    ...options,
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`Condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

export class TestClient {
  readonly sfn: SFNClient;

  constructor(readonly runtime: LocalRuntime) {
    this.sfn = new SFNClient({
      region: 'us-east-1',
      endpoint: runtime.urls.stepfunctions,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${this.runtime.urls.api}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  }

  async placeOrder(order: unknown, idempotencyKey = `key-${crypto.randomUUID()}`): Promise<string> {
    const response = await this.request('POST', '/orders', order, { 'idempotency-key': idempotencyKey });
    if (response.status !== 202)
      throw new Error(`POST /orders answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body?.orderId as string;
  }

  async order(orderId: string) {
    const response = await this.request('GET', `/orders/${orderId}`);
    return response.body as Record<string, any>;
  }

  async product(sku: string) {
    const response = await this.request('GET', '/products');
    return (response.body as unknown as Record<string, any>[]).find((p) => p.sku === sku) as Record<string, any>;
  }

  async setStock(sku: string, available: number) {
    const response = await this.request('PUT', `/products/${sku}/stock`, { available });
    if (response.status !== 200) throw new Error(`PUT stock answered ${response.status}`);
  }

  executionArn(orderId: string): string {
    return `${this.runtime.stateMachineArn.replace(':stateMachine:', ':execution:')}:${orderId}`;
  }

  /** Waits for the order's workflow execution to end and returns its description. */
  async finished(orderId: string, timeoutMs = 30_000): Promise<DescribeExecutionCommandOutput> {
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

  async waitForStatus(orderId: string, status: string, timeoutMs = 20_000) {
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
