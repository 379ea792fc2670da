import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSecret } from '../../local/auth/demo-clients.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { ROOT } from '../support/npm-start.ts';
import { address, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * Direct entry (POST /order-entries, `npm run order -- create|show|import`) and the idempotent
 * intake of the web, rep and import channels, on the local runtime: real HTTP, real tokens, the
 * CLI as a child process.
 */
let runtime: LocalRuntime;
let client: TestClient;
let dynamo: DynamoDBClient;
const tmp = mkdtempSync(join(tmpdir(), 'order-entries-'));

beforeAll(async () => {
  runtime = await startTestRuntime({ carrierDeliveryMs: 300 });
  client = new TestClient(runtime);
  dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: runtime.urls.dynamodb,
    credentials: runtime.credentials,
  });
});

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await runtime?.stop();
});

const enter = (body: unknown, key: string = `rep-${crypto.randomUUID()}`, as = 'rep') =>
  client.as(as).request('POST', '/order-entries', body, { 'idempotency-key': key });

/** What a capture writes: ORDER items in the orders table and workflow executions. */
async function written(): Promise<{ orders: number; executions: number }> {
  const table = runtime.deployment.tables.find((t) => t.TableName?.includes('Orders'))?.TableName;
  let orders = 0;
  let startKey: Record<string, any> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: table,
        Select: 'COUNT',
        FilterExpression: 'sk = :order',
        ExpressionAttributeValues: { ':order': { S: 'ORDER' } },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    orders += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  let executions = 0;
  let nextToken: string | undefined;
  do {
    const page = await client.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: runtime.stateMachineArn, nextToken, maxResults: 1000 }),
    );
    executions += page.executions?.length ?? 0;
    nextToken = page.nextToken;
  } while (nextToken);
  return { orders, executions };
}

async function stockOf(sku: string): Promise<{ onHand: number; reserved: number }> {
  const product = await client.product(sku);
  return { onHand: product.onHand, reserved: product.reserved };
}

const issuePaths = (response: { body?: Record<string, any> }) =>
  ((response.body?.error?.issues ?? []) as { path: string }[]).map((i) => i.path);

describe('POST /order-entries', () => {
  it("takes a rep's entry to COMPLETED on the customer's terms, prices and address, as channel rep", async () => {
    const response = await enter({
      customerId: 'CUST-1001',
      externalReference: 'PO-ACME-77',
      lines: [
        { sku: 'WIDGET-BLUE', quantity: 2 },
        { sku: 'CABLE-USB-C', quantity: 1 },
      ],
    });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const { orderId } = response.body as { orderId: string };
    expect(response.body).toEqual({ orderId, status: 'RECEIVED', links: { self: `/orders/${orderId}` } });
    const order = await client.as('rep').waitForStatus(orderId, 'COMPLETED');
    expect(order).toMatchObject({
      channel: 'rep',
      externalReference: 'PO-ACME-77',
      customerId: 'CUST-1001',
      currency: 'EUR',
      placedBy: { kind: 'user', id: 'rep', role: 'rep' },
      payment: { method: 'on_account' },
      lines: [
        { sku: 'WIDGET-BLUE', quantity: 2, unitPrice: 1250 },
        { sku: 'CABLE-USB-C', quantity: 1, unitPrice: 990 },
      ],
    });
    expect(order.invoices).toHaveLength(1);
  });

  it('charges a card customer’s entry to the card on file and ships to the address given', async () => {
    const shipTo = { ...address, name: 'Jane Doe (office)', line1: 'Invalidenstr. 3' };
    const response = await enter({
      customerId: 'CUST-1002',
      lines: [{ sku: 'GADGET-MINI', quantity: 1 }],
      shippingAddress: shipTo,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    const order = await client.as('rep').waitForStatus(response.body?.orderId, 'COMPLETED');
    expect(order.payment).toEqual({ method: 'card', status: 'CAPTURED' });
  });

  it('refuses the web checkout and buyer clients (403, nothing written)', async () => {
    const before = await written();
    for (const as of ['checkout', 'buyer', 'erp', 'ops']) {
      const response = await enter(
        { customerId: 'CUST-1002', lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }] },
        undefined,
        as,
      );
      expect(response, as).toEqual({ status: 403, body: { message: 'Forbidden' } });
    }
    expect((await client.as(null).request('POST', '/order-entries', {})).status).toBe(401);
    expect(await written()).toEqual(before);
  });

  it('answers a malformed entry 400 and one the records refuse 422, naming each field; nothing is written', async () => {
    const before = await written();
    const line = { sku: 'WIDGET-BLUE', quantity: 1 };
    const cases: [unknown, string | undefined, number, string[]][] = [
      [{ customerId: 'CUST-1001', lines: [line] }, '', 400, ['idempotency-key']],
      [{ customerId: 'CUST-1001', lines: [line] }, 'short', 400, ['idempotency-key']],
      [{ customerId: 'CUST-1001', lines: [] }, undefined, 400, ['lines']],
      [
        { customerId: 'CUST 1001', lines: [{ sku: 'widget', quantity: 0 }], payment: 'cash' },
        undefined,
        400,
        ['customerId', 'lines.0.sku', 'lines.0.quantity', 'payment'],
      ],
      [{ customerId: 'CUST-1001', lines: [line], channel: 'web' }, undefined, 400, ['channel']],
      [{ customerId: 'CUST-1001', lines: [line], channel: 'import' }, undefined, 400, ['externalReference']],
      [
        { customerId: 'CUST-1001', lines: [line], shippingAddress: { ...address, name: 'Jane\nDoe' } },
        undefined,
        400,
        ['shippingAddress.name'],
      ],
      [{ customerId: 'CUST-9999', lines: [line] }, undefined, 422, ['customerId']],
      [
        {
          customerId: 'CUST-1001',
          currency: 'USD',
          lines: [line, { sku: 'LAMP-LED', quantity: 1 }, { sku: 'GADGET-MINI', quantity: 1 }],
        },
        undefined,
        422,
        ['lines.1.sku', 'lines.2.sku'],
      ],
      [{ customerId: 'CUST-1001', lines: [line], payment: 'card' }, undefined, 422, ['payment']],
      [
        {
          customerId: 'CUST-1001',
          lines: [line, { ...line, quantity: 2 }],
        },
        undefined,
        422,
        ['lines.1.sku'],
      ],
    ];
    for (const [body, key, status, paths] of cases) {
      const response = await enter(body, key);
      expect(response.status, JSON.stringify(response.body)).toBe(status);
      expect(issuePaths(response), JSON.stringify(response.body)).toEqual(paths);
    }
    expect(await written()).toEqual(before);
  });

  it('gives the same order for the same key and entry, and refuses the key with another entry (422)', async () => {
    const key = `rep-${crypto.randomUUID()}`;
    const body = { customerId: 'CUST-1002', lines: [{ sku: 'WIDGET-RED', quantity: 1 }] };
    const first = await enter(body, key);
    // The same entry, its fields in another order: the same submission.
    const again = await enter({ lines: body.lines, customerId: body.customerId, channel: 'rep' }, key);
    expect(first.status).toBe(202);
    expect(again).toEqual(first);
    const other = await enter({ ...body, lines: [{ sku: 'WIDGET-RED', quantity: 2 }] }, key);
    expect(other.status).toBe(422);
    expect(other.body?.error).toMatchObject({ code: 'IdempotencyKeyReused', issues: [{ path: 'Idempotency-Key' }] });
    // Keys are per channel: the same key under import is another order.
    const imported = await enter({ ...body, channel: 'import', externalReference: 'PO-X' }, key);
    expect(imported.status).toBe(202);
    expect(imported.body?.orderId).not.toBe(first.body?.orderId);
    await client.as('rep').waitForStatus(first.body?.orderId, 'COMPLETED');
    await client.as('rep').waitForStatus(imported.body?.orderId, 'COMPLETED');
  });
});

describe('keys that outlive what the entry was resolved against', () => {
  it('answers a repeat with its order even after the product was withdrawn meanwhile', async () => {
    const products = runtime.deployment.tables.find((t) => t.TableName?.includes('Products'))?.TableName;
    const setActive = (active: boolean) =>
      dynamo.send(
        new UpdateItemCommand({
          TableName: products,
          Key: { sku: { S: 'DOCK-4K' } },
          UpdateExpression: 'SET active = :active',
          ExpressionAttributeValues: { ':active': { BOOL: active } },
        }),
      );
    const key = `rep-${crypto.randomUUID()}`;
    const body = { customerId: 'CUST-1002', lines: [{ sku: 'DOCK-4K', quantity: 1 }] };
    const first = await enter(body, key);
    expect(first.status).toBe(202);
    await setActive(false);
    try {
      // A new entry for the product is refused; the repeat of the one captured is its order, not a refusal.
      expect((await enter(body)).status).toBe(422);
      const repeat = await enter(body, key);
      expect(repeat.status).toBe(202);
      expect(repeat.body?.orderId).toBe(first.body?.orderId);
    } finally {
      await setActive(true);
    }
  });

  it("keys an import by the customer's reference: two customers' PO-1001 are two orders", async () => {
    const entry = (customerId: string) => ({
      channel: 'import',
      customerId,
      externalReference: 'PO-SHARED-1',
      lines: [{ sku: 'CABLE-USB-C', quantity: 1 }],
    });
    const acme = await enter(entry('CUST-1001'), 'import:PO-SHARED-1');
    const jane = await enter(entry('CUST-1002'), 'import:PO-SHARED-1');
    expect([acme.status, jane.status]).toEqual([202, 202]);
    expect(acme.body?.orderId).not.toBe(jane.body?.orderId);
    expect(await enter(entry('CUST-1001'), 'import:PO-SHARED-1')).toEqual(acme);
  });
});

describe('50 concurrent identical submissions: one order, one execution, stock taken once', () => {
  async function storm(
    sku: string,
    quantity: number,
    submit: () => Promise<{ status: number; body?: Record<string, any> }>,
    channel: string,
  ) {
    const before = await written();
    const stock = await stockOf(sku);
    const responses = await Promise.all(Array.from({ length: 50 }, submit));
    // Every duplicate gets the first one's answer, the moment it arrives: no 409 to retry after.
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([202]));
    const ids = new Set(responses.map((r) => r.body?.orderId));
    expect(ids.size).toBe(1);
    const [orderId] = [...ids] as [string];
    const order = await client.as('rep').waitForStatus(orderId, 'COMPLETED');
    expect(order.channel).toBe(channel);
    expect(await written()).toEqual({ orders: before.orders + 1, executions: before.executions + 1 });
    // Shipped once: on hand down by the order's quantity, nothing left reserved for it.
    expect(await stockOf(sku)).toEqual({ onHand: stock.onHand - quantity, reserved: stock.reserved });
    // A retry after the storm still finds the same order.
    const retry = await submit();
    expect(retry.status).toBe(202);
    expect(retry.body?.orderId).toBe(orderId);
    expect(await written()).toEqual({ orders: before.orders + 1, executions: before.executions + 1 });
  }

  it('web (POST /orders, Idempotency-Key)', async () => {
    const key = `web-storm-${crypto.randomUUID()}`;
    const body = orderBody({ lines: [{ sku: 'KEYBOARD-MX', quantity: 2, unitPrice: 11_900 }] });
    await storm(
      'KEYBOARD-MX',
      2,
      () => client.as('checkout').request('POST', '/orders', body, { 'idempotency-key': key }),
      'web',
    );
  });

  it('rep (POST /order-entries, the key the CLI generates)', async () => {
    const key = `rep-${crypto.randomUUID()}`;
    const body = { customerId: 'CUST-1002', lines: [{ sku: 'MOUSE-ERGO', quantity: 3 }] };
    await storm('MOUSE-ERGO', 3, () => enter(body, key), 'rep');
  });

  it("import (POST /order-entries, the file's order reference)", async () => {
    const reference = `PO-STORM-${Date.now()}`;
    const body = {
      channel: 'import',
      customerId: 'CUST-1002',
      externalReference: reference,
      lines: [{ sku: 'MONITOR-27', quantity: 1 }],
    };
    await storm('MONITOR-27', 1, () => enter(body, `import:${reference}`), 'import');
  });
});

describe('random malformed requests get a 4xx and write nothing (fast-check)', () => {
  const notAString = fc.oneof(
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.constant({}),
  );
  const badText = fc.oneof(
    notAString,
    fc.constant(''),
    fc.string({ maxLength: 10 }).map((s) => `${s}\n${s}`),
    // Too long even after trimming (names are trimmed first): mostly spaces would be a valid short name.
    fc.string({ maxLength: 60 }).map((s) => `${'x'.repeat(201)}${s}x`),
  );
  const badQuantity = fc.oneof(
    fc.integer({ min: -1000, max: 0 }),
    fc.integer({ min: 10_001 }),
    fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 5 }),
    fc.constant(null),
  );
  const badSku = fc.oneof(
    notAString,
    fc.string({ maxLength: 45 }).filter((s) => !/^[A-Z0-9][A-Z0-9-]{1,39}$/.test(s)),
  );
  const badCustomerId = fc.oneof(notAString, fc.constantFrom('', 'CUST 1001', 'x'.repeat(65), 'CUST/1001'));
  const badKey = fc.oneof(
    fc.constant(undefined),
    fc.stringMatching(/^[A-Za-z0-9]{0,7}$/),
    fc.stringMatching(/^[A-Za-z0-9]{4,20}$/).map((s) => `${s} ${s}!`),
    fc.constant('x'.repeat(129)),
  );
  const notJson = fc.oneof(
    fc.constantFrom('', '{', '{"customerId":', 'not json', '[1,2', '{"lines":[}'),
    fc.string({ maxLength: 30 }).filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    }),
  );
  const notAnObject = fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.string());

  type Mutation = { body: unknown; raw?: string; key?: string | undefined; as?: string };
  const set = (base: Record<string, any>, path: (string | number)[], value: unknown) => {
    const copy = structuredClone(base);
    let node = copy;
    for (const step of path.slice(0, -1)) node = node[step];
    node[path.at(-1) as string] = value;
    return copy;
  };
  const drop = (base: Record<string, any>, field: string) => {
    const { [field]: _gone, ...rest } = base;
    return rest;
  };

  /** Mutations that make any request malformed; `extra` adds those of one route. */
  const malformed = (base: Record<string, any>, required: string[], extra: fc.Arbitrary<Mutation>[]) =>
    fc.oneof(
      notJson.map((raw): Mutation => ({ body: undefined, raw })),
      notAnObject.map((body): Mutation => ({ body })),
      fc.constantFrom(...required).map((field): Mutation => ({ body: drop(base, field) })),
      badCustomerId.map((v): Mutation => ({ body: set(base, ['customerId'], v) })),
      fc
        .oneof(notAString, fc.constant([]), fc.constant(Array.from({ length: 51 }, () => base.lines[0])))
        .map((v): Mutation => ({ body: set(base, ['lines'], v) })),
      badSku.map((v): Mutation => ({ body: set(base, ['lines', 0, 'sku'], v) })),
      badQuantity.map((v): Mutation => ({ body: set(base, ['lines', 0, 'quantity'], v) })),
      fc
        .oneof(fc.integer({ max: -1 }), fc.constantFrom(1.5, '1250', null))
        .map((v): Mutation => ({ body: set(base, ['lines', 0, 'unitPrice'], v) })),
      fc
        .oneof(notAString, fc.constantFrom('eur', 'EURO', 'E1'))
        .map((v): Mutation => ({ body: set(base, ['currency'], v) })),
      fc
        .tuple(fc.constantFrom('name', 'line1', 'city', 'postalCode'), badText)
        .map(([field, v]): Mutation => ({ body: set(base, ['shippingAddress'], { ...address, [field]: v }) })),
      fc
        .oneof(notAString, fc.constantFrom('de', 'DEU', ''))
        .map((v): Mutation => ({ body: set(base, ['shippingAddress'], { ...address, country: v }) })),
      fc
        .oneof(notAString, fc.constantFrom('fast', ''))
        .map((v): Mutation => ({ body: set(base, ['fulfilmentPolicy'], v) })),
      badKey.map((key): Mutation => ({ body: base, key })),
      ...extra,
    );

  async function check(path: string, as: string, mutation: Mutation, before: { orders: number; executions: number }) {
    const key = 'key' in mutation ? mutation.key : `prop-${crypto.randomUUID()}`;
    const response = await client
      .as(mutation.as ?? as)
      .request(
        'POST',
        path,
        mutation.raw ?? JSON.stringify(mutation.body),
        key === undefined ? {} : { 'idempotency-key': key },
      );
    expect(response.status, JSON.stringify({ mutation, response })).toBeGreaterThanOrEqual(400);
    expect(response.status, JSON.stringify({ mutation, response })).toBeLessThan(500);
    if (response.status === 400 || response.status === 422) expect(issuePaths(response).length).toBeGreaterThan(0);
    expect(await written()).toEqual(before);
  }

  it('web channel: POST /orders', async () => {
    const base = orderBody();
    const before = await written();
    const web = malformed(
      base,
      ['customerId', 'currency', 'lines', 'shippingAddress', 'payment'],
      [
        fc
          .oneof(
            notAString,
            fc.constant({ method: 'cash' }),
            fc.constant({ method: 'card' }),
            fc.constant({ method: 'card', token: '' }),
          )
          .map((v): Mutation => ({ body: set(base, ['payment'], v) })),
        // The web checkout may not bill on account (403), nor may it skip the price (unitPrice is required).
        fc.constant<Mutation>({ body: set(base, ['payment'], { method: 'on_account' }) }),
        fc.constant<Mutation>({ body: set(base, ['lines'], [{ sku: 'WIDGET-BLUE', quantity: 1 }]) }),
      ],
    );
    await fc.assert(
      fc.asyncProperty(web, (mutation) => check('/orders', 'checkout', mutation, before)),
      { numRuns: 40 },
    );
  });

  it('entry route: POST /order-entries', async () => {
    const base = { customerId: 'CUST-1001', lines: [{ sku: 'WIDGET-BLUE', quantity: 1 }], shippingAddress: address };
    const before = await written();
    const entry = malformed(
      base,
      ['customerId', 'lines'],
      [
        fc
          .oneof(notAString, fc.constantFrom('cash', 'CARD'))
          .map((v): Mutation => ({ body: set(base, ['payment'], v) })),
        fc
          .oneof(notAString, fc.constantFrom('web', 'crm', 'email', 'REP'))
          .map((v): Mutation => ({ body: set(base, ['channel'], v) })),
        // Well-formed, but the records refuse it (422): unknown customer or product, no price, no card on file.
        fc
          .stringMatching(/^[A-Z]{2}-[0-9]{4,8}$/)
          .map((id): Mutation => ({ body: set(base, ['customerId'], `NOPE-${id}`) })),
        fc
          .constantFrom('LAMP-LED', 'NO-SUCH-SKU')
          .map((sku): Mutation => ({ body: set(base, ['lines'], [{ sku, quantity: 1 }]) })),
        fc.constant<Mutation>({ body: { ...base, currency: 'USD', lines: [{ sku: 'GADGET-MINI', quantity: 1 }] } }),
        fc.constant<Mutation>({ body: { ...base, payment: 'card' } }),
        // Not a rep: the gateway refuses the scope.
        fc.constantFrom('checkout', 'buyer').map((as): Mutation => ({ body: base, as })),
      ],
    );
    await fc.assert(
      fc.asyncProperty(entry, (mutation) => check('/order-entries', 'rep', mutation, before)),
      { numRuns: 40 },
    );
  });
});

/** `npm run -s order -- <args>` against this runtime, as a rep would run it. */
const order = (args: string[], env: Record<string, string> = {}) =>
  run('npm', ['run', '-s', 'order', '--', ...args], env);

/** A command line as a rep would paste it into a shell. */
const shell = (command: string, env: Record<string, string> = {}) => run('sh', ['-c', command], env);

function run(file: string, args: string[], env: Record<string, string>, started?: (child: ChildProcess) => void) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      file,
      args,
      {
        cwd: ROOT,
        timeout: 90_000,
        env: {
          ...process.env,
          ORDER_API_URL: runtime.urls.api,
          ORDER_AUTH_URL: runtime.urls.auth,
          ORDER_API_TOKEN: '',
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    started?.(child);
  });
}

const ORDER_ID = /ord-[0-9a-z]{26}/;

describe('npm run order', () => {
  let created: string;

  it('create: prints the order id, follows it to COMPLETED line by line, exits 0', async () => {
    const run = await order([
      'create',
      '--customer',
      'CUST-1001',
      '--line',
      'WIDGET-RED:2',
      '--line',
      'BOOK-SETUP:1',
      '--on-account',
      '--reference',
      'PO-CLI-1',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${ORDER_ID.source}$`));
    created = lines[0] as string;
    // Not a terminal: one line per change of status, ending with the outcome.
    expect(
      lines.slice(1, -1).every((line) => line.startsWith('Status: ')),
      run.stdout,
    ).toBe(true);
    expect(lines.at(-2)).toMatch(/^Status: COMPLETED/);
    expect(lines.at(-1)).toBe(`Order ${created} COMPLETED`);
    expectNoSecrets(run);
    const placed = await client.as('rep').order(created);
    expect(placed).toMatchObject({ channel: 'rep', externalReference: 'PO-CLI-1', payment: { method: 'on_account' } });
  });

  it('create: an order that does not complete exits non-zero with the reason', async () => {
    const run = await order(['create', '--customer', 'CUST-1004', '--line', 'WIDGET-BLUE:1']);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')[0]).toMatch(ORDER_ID);
    expect(run.stderr).toMatch(/REJECTED: CustomerBlocked/);
  });

  it('create: an entry the API refuses names the fields; wrong usage exits 2', async () => {
    const refused = await order(['create', '--customer', 'CUST-1001', '--line', 'LAMP-LED:1', '--card']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('422 InvalidOrder');
    expect(refused.stderr).toContain('lines.0.sku: product LAMP-LED is not sold');
    expect(refused.stderr).toContain('payment: the customer has no card on file');
    const usage = await order(['create', '--customer', 'CUST-1001', '--line', 'WIDGET-BLUE:two']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--line WIDGET-BLUE:two: expected <sku>:<quantity>');
    const key = await order([
      'create',
      '--customer',
      'CUST-1001',
      '--line',
      'WIDGET-BLUE:1',
      '--idempotency-key',
      'k1',
    ]);
    expect(key.code).toBe(2);
    expect(key.stderr).toContain('--idempotency-key k1: must be 8-128 letters, digits or _ . : -');
  });

  it('import: a --concurrency that is not a whole number of at least 1 is wrong usage; nothing is sent', async () => {
    const before = await written();
    const run = await order(['import', 'local/examples/orders.csv', '--concurrency', 'abc']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--concurrency abc: expected a whole number of at least 1');
    expect(run.stdout).toBe('');
    expect(await written()).toEqual(before);
  });

  it('create: without a definite answer prints the key and the command to repeat; that command finds the one order', async () => {
    const keys: string[] = [];
    const proxy = await lossyProxy(keys, () => true);
    let first: Awaited<ReturnType<typeof order>>;
    const before = await written();
    try {
      first = await order(
        ['create', '--customer', 'CUST-1002', '--line', 'CABLE-USB-C:1', '--reference', 'PO CLI lost', '--no-wait'],
        { ORDER_API_URL: proxy.url },
      );
    } finally {
      proxy.server.close();
    }
    expect(first.code).toBe(1);
    expect(first.stdout).toBe('');
    expect(first.stderr).toContain('No definite answer (503 Service Unavailable)');
    const key = keys[0] as string;
    expect(keys.length).toBeGreaterThan(1);
    expect(new Set(keys)).toEqual(new Set([key]));
    expect(first.stderr).toContain(`Its Idempotency-Key is ${key}.`);
    const command = /^ {2}(npm run order -- .*)$/m.exec(first.stderr)?.[1];
    expect(command).toBe(
      `npm run order -- create --customer CUST-1002 --line CABLE-USB-C:1 --reference 'PO CLI lost' --no-wait --idempotency-key ${key}`,
    );
    // The API captured it though no answer came through.
    expect(await written()).toEqual({ orders: before.orders + 1, executions: before.executions + 1 });

    const again = await shell(command as string);
    expect(again.code, again.stderr).toBe(0);
    const orderId = ORDER_ID.exec(again.stdout)?.[0] as string;
    expect(await client.as('rep').order(orderId)).toMatchObject({ externalReference: 'PO CLI lost' });
    expect(await written()).toEqual({ orders: before.orders + 1, executions: before.executions + 1 });
    expectNoSecrets(first);
    expectNoSecrets(again);
  });

  it('create: retries with the same key after a lost answer, and gets the one order', async () => {
    const keys: string[] = [];
    let dropped = 0;
    const proxy = await lossyProxy(keys, () => dropped++ === 0);
    try {
      const before = await written();
      const run = await order(['create', '--customer', 'CUST-1002', '--line', 'CABLE-USB-C:1', '--no-wait'], {
        ORDER_API_URL: proxy.url,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(keys).toHaveLength(2);
      expect(keys[1]).toBe(keys[0]);
      expect(await written()).toEqual({ orders: before.orders + 1, executions: before.executions + 1 });
      await client.as('rep').waitForStatus(run.stdout.trim(), 'COMPLETED');
    } finally {
      proxy.server.close();
    }
  });

  it('create: Ctrl-C before the answer prints the key and the command to repeat; that command finds the one order', async () => {
    const keys: string[] = [];
    let arrived = () => {};
    const held = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    // The API captures the order; its answer is held back until the rep gives up.
    const proxy = await lossyProxy(keys, () => {
      arrived();
      return 'hold';
    });
    const before = await written();
    let first: Awaited<ReturnType<typeof order>>;
    try {
      // The CLI itself, not npm: Ctrl-C in a terminal reaches the CLI's process directly.
      first = await run(
        process.execPath,
        ['--import', 'tsx', 'local/cli/order.ts', 'create', '--customer', 'CUST-1002', '--line', 'WIDGET-BLUE:1'],
        { ORDER_API_URL: proxy.url },
        (child) => void held.then(() => child.kill('SIGINT')),
      );
    } finally {
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
    expect(first.code, first.stderr).toBe(130);
    expect(first.stdout).toBe('');
    expect(first.stderr).toContain('No definite answer (interrupted)');
    const command = /^ {2}(npm run order -- .*)$/m.exec(first.stderr)?.[1];
    expect(command).toBe(
      `npm run order -- create --customer CUST-1002 --line WIDGET-BLUE:1 --idempotency-key ${keys[0]}`,
    );
    expect(await written()).toEqual({ orders: before.orders + 1, executions: before.executions + 1 });
    const again = await shell(`${command} --no-wait`);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(ORDER_ID);
    expect(await written()).toEqual({ orders: before.orders + 1, executions: before.executions + 1 });
  });

  it('show: the order, lines, totals, shipments, invoices and timeline', async () => {
    const run = await order(['show', created]);
    expect(run.code, run.stderr).toBe(0);
    const text = run.stdout;
    expect(text).toMatch(new RegExp(`^Order ${created}  COMPLETED`));
    expect(text).toMatch(/Channel\s+rep \(reference PO-CLI-1\)/);
    expect(text).toMatch(/Placed by\s+user:rep/);
    expect(text).toMatch(/WIDGET-RED\s+Widget, red\s+2\s+EUR 12\.50\s+EUR 0\.00\s+EUR 25\.00/);
    expect(text).toMatch(/Total\s+EUR \d+\.\d\d/);
    expect(text).toMatch(/Shipments\n {2}\S+\s+WH-BERLIN\s+DELIVERED\s+tracking \S+/);
    expect(text).toMatch(/Invoices\n {2}INV-\d{4}-\d{6}/);
    expect(text).toMatch(/OrderReceived\s+by user:rep/);
    expect(text).toMatch(/OrderCompleted/);
    const unknown = await order(['show', 'ord-00000000000000000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('404 OrderNotFound');
    expectNoSecrets(run);
    expectNoSecrets(unknown);
    // A token given is used, never shown, also when it is refused.
    const token = await client.token('rep');
    const given = await order(['show', created], { ORDER_API_TOKEN: token });
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout + given.stderr).not.toContain(token);
    const refused = await order(['show', created], { ORDER_API_TOKEN: 'not-a-token-but-a-secret' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('401');
    expect(refused.stdout + refused.stderr).not.toContain('not-a-token-but-a-secret');
  });

  it('import: imports the good orders, reports every row, and a second run creates nothing new', async () => {
    const before = await written();
    const first = await order(['import', 'local/examples/orders.csv']);
    expect(first.code).toBe(1); // some rows failed
    expect(first.stderr).toContain('3/3 orders');
    const report = reportOf(first.stdout);
    const ids = { 'PO-1001': report[2]?.orderId, 'PO-1002': report[4]?.orderId };
    expect(ids['PO-1001']).toMatch(ORDER_ID);
    expect(report[3]?.orderId).toBe(ids['PO-1001']);
    expect(ids['PO-1002']).toMatch(ORDER_ID);
    expect(report[5]).toEqual({ reference: 'PO-1003', reason: 'quantity: must be a whole number, at least 1' });
    expect(report[6]).toEqual({ reference: 'PO-1003', reason: 'row 5 of this order is invalid' });
    expect(report[7]).toEqual({ reference: 'PO-1004', reason: 'row 8 of this order is invalid' });
    expect(report[8]?.reason).toBe('sku: BOOK-SETUP is in row 7 of this order too; combine the lines');
    expect(report[9]).toEqual({ reference: 'PO-1005', reason: 'sku: product LAMP-LED is not sold' });
    expect(first.stdout).toContain('2 of 5 orders imported (3 of 8 rows); 5 rows not imported');
    expect(await written()).toEqual({ orders: before.orders + 2, executions: before.executions + 2 });
    for (const [reference, orderId] of Object.entries(ids)) {
      const imported = await client.as('rep').waitForStatus(orderId as string, 'COMPLETED');
      expect(imported).toMatchObject({ channel: 'import', externalReference: reference });
    }

    const second = await order(['import', 'local/examples/orders.csv']);
    expect(second.code).toBe(1);
    expect(reportOf(second.stdout)).toEqual(report);
    expect(await written()).toEqual({ orders: before.orders + 2, executions: before.executions + 2 });

    // The same reference with other rows is refused, not imported as a second order.
    const changed = join(tmp, 'changed.csv');
    writeFileSync(
      changed,
      'reference,customerId,sku,quantity,payment\nPO-1001,CUST-1001,WIDGET-BLUE,11,on_account\nPO-1001,CUST-1001,CABLE-USB-C,20,on_account\n',
    );
    const third = await order(['import', changed]);
    expect(third.code).toBe(1);
    expect(reportOf(third.stdout)[2]?.reason).toMatch(/^reference PO-1001 was imported before with other rows/);
    expect(await written()).toEqual({ orders: before.orders + 2, executions: before.executions + 2 });
  });

  it('import: retries an order whose answer was lost with its reference as the key; one order each', async () => {
    const file = join(tmp, 'retry.csv');
    writeFileSync(
      file,
      'reference,customerId,sku,quantity\nPO-R1,CUST-1002,WIDGET-BLUE,1\nPO-R2,CUST-1002,CABLE-USB-C,2\n',
    );
    const keys: string[] = [];
    const lost = new Set<string>();
    const proxy = await lossyProxy(keys, (key) => !lost.has(key) && Boolean(lost.add(key)));
    try {
      const before = await written();
      const run = await order(['import', file], { ORDER_API_URL: proxy.url });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(keys.sort()).toEqual(['import:PO-R1', 'import:PO-R1', 'import:PO-R2', 'import:PO-R2']);
      expect(run.stdout).toContain('2 of 2 orders imported (2 of 2 rows); 0 rows not imported');
      expect(await written()).toEqual({ orders: before.orders + 2, executions: before.executions + 2 });
    } finally {
      proxy.server.close();
    }
  });

  it('import: an order whose answers were all lost is unknown, not failed; running the file again finds it', async () => {
    const file = join(tmp, 'lost.csv');
    writeFileSync(
      file,
      'reference,customerId,sku,quantity\nPO-U1,CUST-1002,WIDGET-BLUE,1\nPO-U2,CUST-1002,CABLE-USB-C,2\n',
    );
    const keys: string[] = [];
    const proxy = await lossyProxy(keys, (key) => key === 'import:PO-U1');
    const before = await written();
    let first: Awaited<ReturnType<typeof order>>;
    try {
      first = await order(['import', file], { ORDER_API_URL: proxy.url });
    } finally {
      proxy.server.close();
    }
    expect(first.code).toBe(1);
    const report = reportOf(first.stdout);
    expect(report[2]).toEqual({ reference: 'PO-U1', unknown: '503 Service Unavailable' });
    expect(report[3]?.orderId).toMatch(ORDER_ID);
    expect(first.stdout).toContain(
      '1 of 2 orders imported (1 of 2 rows); 0 rows not imported; 1 rows unknown — run the file again (the same reference is the same order)',
    );
    // It was imported, though the answer was lost.
    expect(await written()).toEqual({ orders: before.orders + 2, executions: before.executions + 2 });

    const again = await order(['import', file]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(reportOf(again.stdout)[2]?.orderId).toMatch(ORDER_ID);
    expect(reportOf(again.stdout)[3]).toEqual(report[3]);
    expect(again.stdout).toContain('2 of 2 orders imported (2 of 2 rows); 0 rows not imported');
    expect(await written()).toEqual({ orders: before.orders + 2, executions: before.executions + 2 });
  });
});

type ReportRow = { reference: string; orderId?: string; reason?: string; unknown?: string };

/** The import report's lines by row: the order id, the reason the row was not imported, or why it is unknown. */
function reportOf(stdout: string): Record<number, ReportRow> {
  const rows: Record<number, ReportRow> = {};
  const unknown = 'unknown — run the file again (the same reference is the same order); last attempt: ';
  for (const line of stdout.split('\n')) {
    const match = /^row (\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, row, reference, rest] = match as unknown as [string, string, string, string];
    rows[Number(row)] = rest.startsWith('not imported: ')
      ? { reference, reason: rest.slice('not imported: '.length) }
      : rest.startsWith(unknown)
        ? { reference, unknown: rest.slice(unknown.length) }
        : { reference, orderId: rest.trim() };
  }
  return rows;
}

/** No access token (a JWT) and no client secret in what the CLI prints. */
function expectNoSecrets(run: { stdout: string; stderr: string }) {
  const output = run.stdout + run.stderr;
  expect(output).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
  expect(output).not.toContain(demoSecret('rep'));
  expect(output).not.toMatch(/bearer/i);
}

/**
 * A proxy in front of the API that loses answers: it forwards every request, and for the POSTs
 * `lose(key)` picks, throws the API's answer away and says 503, as a connection dropped after the
 * order was captured would (or, for 'hold', never answers). It records each POST's Idempotency-Key.
 */
async function lossyProxy(
  keys: string[],
  lose: (key: string) => boolean | 'hold',
): Promise<{ url: string; server: Server }> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(
        ([name]) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name),
      ),
    ) as Record<string, string>;
    const answer = await fetch(`${runtime.urls.api}${request.url}`, {
      method: request.method,
      headers,
      body: request.method === 'GET' ? undefined : Buffer.concat(chunks),
    });
    const body = await answer.text();
    const key = headers['idempotency-key'];
    if (request.method === 'POST' && key !== undefined) {
      keys.push(key);
      const verdict = lose(key);
      if (verdict === 'hold') return; // no answer at all, until the connection is closed
      if (verdict) {
        response.writeHead(503, { 'content-type': 'application/json' }).end('{"message":"Service Unavailable"}');
        return;
      }
    }
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
