import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiAnswer, NoAnswer, OrderApi } from '../../local/cli/api.ts';
import { type CreateCommand, parseCommand, retryCommand, UsageError } from '../../local/cli/args.ts';
import { reportLines, UNKNOWN_ROW } from '../../local/cli/format.ts';
import { entryOutcome, importSummary } from '../../local/cli/outcome.ts';

/** The order CLI's pure parts: its command line, the outcome of an entry, the import's summary; and its retries. */
const create = (...args: string[]) =>
  parseCommand(['create', '--customer', 'CUST-1001', '--line', 'WIDGET-BLUE:1', ...args]).command as CreateCommand;
const importing = (...args: string[]) => parseCommand(['import', 'orders.csv', ...args]).command;
const usageError = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('no usage error');
};

describe('parseCommand', () => {
  it('import: --concurrency is a whole number of at least 1 (4 without it); anything else is wrong usage', () => {
    expect(importing()).toEqual({ name: 'import', file: 'orders.csv', dryRun: false, concurrency: 4 });
    expect(importing('--concurrency', '12', '--dry-run')).toMatchObject({ concurrency: 12, dryRun: true });
    for (const value of ['abc', '0', '=-1', '1.5', '=', '2x', '1e3', '99999999999999999999']) {
      const args = value.startsWith('=') ? [`--concurrency${value}`] : ['--concurrency', value];
      const error = usageError(() => importing(...args));
      expect(error, value).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(/^--concurrency .*: expected a whole number of at least 1$/);
    }
  });

  it('create: --timeout is a whole number of seconds, 0 or more; --interval at least 1 ms', () => {
    expect(create()).toMatchObject({ wait: true, timeoutSeconds: 0, intervalMs: 1000 });
    expect(create('--timeout', '30', '--interval', '200', '--no-wait')).toMatchObject({
      wait: false,
      timeoutSeconds: 30,
      intervalMs: 200,
    });
    expect(usageError(() => create('--timeout', 'soon'))).toBeInstanceOf(UsageError);
    expect(usageError(() => create('--interval', '0'))).toBeInstanceOf(UsageError);
  });

  it('create: --idempotency-key is taken as the header takes it, 8-128 of [A-Za-z0-9_.:-]', () => {
    expect(create().idempotencyKey).toBeUndefined();
    expect(create('--idempotency-key', 'rep-1234abcd').idempotencyKey).toBe('rep-1234abcd');
    expect(create(`--idempotency-key=${'k'.repeat(128)}`).idempotencyKey).toHaveLength(128);
    for (const key of ['short', 'k'.repeat(129), 'rep 1234abcd', 'rep/1234abcd', 'rép-1234abcd']) {
      const error = usageError(() => create('--idempotency-key', key));
      expect(error, key).toBeInstanceOf(UsageError);
      expect((error as Error).message).toContain('must be 8-128 letters, digits or _ . : -');
    }
  });

  it('create: builds the entry; show and import need their argument; an unknown command is wrong usage', () => {
    expect(
      create(
        '--line',
        'CABLE-USB-C:2:450',
        '--card',
        '--ship-to',
        'Acme|Main St 1|10115|Berlin|DE',
        '--reference',
        'PO-1',
      ).entry,
    ).toEqual({
      channel: 'rep',
      customerId: 'CUST-1001',
      lines: [
        { sku: 'WIDGET-BLUE', quantity: 1 },
        { sku: 'CABLE-USB-C', quantity: 2, unitPrice: 450 },
      ],
      payment: 'card',
      shippingAddress: { name: 'Acme', line1: 'Main St 1', postalCode: '10115', city: 'Berlin', country: 'DE' },
      externalReference: 'PO-1',
    });
    expect(parseCommand(['show', 'ord-1']).command).toEqual({ name: 'show', orderId: 'ord-1' });
    expect(parseCommand([]).command).toEqual({ name: 'help', exitCode: 2 });
    expect(parseCommand(['--help']).command).toEqual({ name: 'help', exitCode: 0 });
    for (const argv of [['show'], ['import'], ['delete', 'ord-1'], ['create', '--line', 'WIDGET-BLUE:1']])
      expect(
        usageError(() => parseCommand(argv)),
        argv.join(' '),
      ).toBeInstanceOf(UsageError);
  });
});

describe('retryCommand', () => {
  it('repeats the arguments with the key, quoted for the shell', () => {
    const argv = [
      'create',
      '--customer',
      'CUST-1001',
      '--line',
      'WIDGET-BLUE:2',
      '--ship-to',
      "O'Hara|Main St 1|1|X|DE",
    ];
    const command = retryCommand(argv, 'rep-0f3c9a1e');
    expect(command).toBe(
      `npm run order -- create --customer CUST-1001 --line WIDGET-BLUE:2 --ship-to 'O'\\''Hara|Main St 1|1|X|DE' --idempotency-key rep-0f3c9a1e`,
    );
    // The shell gives back the arguments as they were.
    const echoed = execFileSync('sh', ['-c', `printf '%s\\n' ${command.replace(/^npm run order -- /, '')}`], {
      encoding: 'utf8',
    });
    expect(echoed.trimEnd().split('\n')).toEqual([...argv, '--idempotency-key', 'rep-0f3c9a1e']);
  });

  it('keeps a key the command already has', () => {
    expect(retryCommand(['create', '--idempotency-key', 'rep-given-1'], 'rep-given-1')).toBe(
      'npm run order -- create --idempotency-key rep-given-1',
    );
    expect(retryCommand(['create', '--idempotency-key=rep-given-1'], 'rep-given-1')).toBe(
      'npm run order -- create --idempotency-key=rep-given-1',
    );
  });
});

describe('entryOutcome', () => {
  const answer = (status: number, uncertain: boolean, body: Record<string, unknown> = {}): ApiAnswer => ({
    status,
    body,
    uncertain,
  });

  it('is the order id for a 202, after whatever came before', () => {
    expect(entryOutcome(answer(202, true, { orderId: 'ord-1' }))).toEqual({ kind: 'accepted', orderId: 'ord-1' });
  });

  it('is unknown when an attempt may have reached the API and no later answer read the entry', () => {
    for (const [status, code] of [
      [503, undefined],
      [500, 'InternalError'],
      [502, 'BadGateway'],
      [429, undefined],
      [401, undefined],
    ] as const) {
      const outcome = entryOutcome(answer(status, true, { error: { code, message: 'm' } }));
      expect(outcome, String(status)).toMatchObject({
        kind: 'unknown',
        reason: expect.stringContaining(String(status)),
      });
    }
    expect(entryOutcome(answer(202, true, {}))).toMatchObject({ kind: 'unknown' });
    expect(entryOutcome(new NoAnswer('No answer from http://api/order-entries: ECONNRESET', true))).toEqual({
      kind: 'unknown',
      reason: 'No answer from http://api/order-entries: ECONNRESET',
    });
  });

  it('is refused when the API read the entry and refused it, or nothing can have arrived', () => {
    const invalid = { error: { code: 'InvalidOrder', message: 'no', issues: [{ path: 'lines.0.sku', message: 'x' }] } };
    expect(entryOutcome(answer(422, true, invalid))).toEqual({
      kind: 'refused',
      status: 422,
      error: { code: 'InvalidOrder', message: 'no', issues: [{ path: 'lines.0.sku', message: 'x' }] },
    });
    expect(entryOutcome(answer(400, true))).toMatchObject({ kind: 'refused', status: 400 });
    expect(entryOutcome(answer(429, false))).toMatchObject({ kind: 'refused', status: 429 });
    expect(entryOutcome(answer(403, false))).toMatchObject({ kind: 'refused', status: 403 });
    expect(entryOutcome(new NoAnswer('No answer: ECONNREFUSED', false))).toEqual({
      kind: 'refused',
      error: { message: 'No answer: ECONNREFUSED', issues: [] },
    });
  });
});

describe('importSummary', () => {
  it('counts as imported only the rows that got an order id; rows never sent are not imported', () => {
    // Two orders of 5 rows planned; only the refused row came back (no order was sent at all).
    const summary = importSummary([{ row: 2, reference: 'PO-1', outcome: 'refused', reasons: ['bad'] }], {
      orders: 3,
      rows: 6,
    });
    expect(summary).toEqual({ line: '0 of 3 orders imported (0 of 6 rows); 6 rows not imported', exitCode: 1 });
  });

  it('reports unknown rows apart, and exits 0 only when every row was imported', () => {
    const summary = importSummary(
      [
        { row: 2, reference: 'PO-1', outcome: 'imported', orderId: 'ord-1' },
        { row: 3, reference: 'PO-1', outcome: 'imported', orderId: 'ord-1' },
        { row: 4, reference: 'PO-2', outcome: 'unknown', reason: '503 Service Unavailable' },
        { row: 5, reference: 'PO-3', outcome: 'refused', reasons: ['bad'] },
      ],
      { orders: 3, rows: 4 },
    );
    expect(summary).toEqual({
      line: `1 of 3 orders imported (2 of 4 rows); 1 rows not imported; 1 rows ${UNKNOWN_ROW}`,
      exitCode: 1,
    });
    expect(
      importSummary([{ row: 2, reference: 'PO-1', outcome: 'imported', orderId: 'ord-1' }], { orders: 1, rows: 1 }),
    ).toEqual({ line: '1 of 1 orders imported (1 of 1 rows); 0 rows not imported', exitCode: 0 });
  });

  it('prints an unknown row as unknown, not as not imported', () => {
    expect(
      reportLines([
        { row: 4, reference: 'PO-2', outcome: 'unknown', reason: '503 Service Unavailable' },
        { row: 2, reference: 'PO-1', outcome: 'refused', reasons: ['a', 'b'] },
      ]),
    ).toEqual([
      'row 2  PO-1  not imported: a; b',
      `row 4  PO-2  ${UNKNOWN_ROW}; last attempt: 503 Service Unavailable`,
    ]);
    expect(UNKNOWN_ROW).toBe('unknown — run the file again (the same reference is the same order)');
  });
});

describe('OrderApi.send', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  const client = (port: number, attempts = 3) =>
    new OrderApi({
      apiUrl: `http://127.0.0.1:${port}`,
      authUrl: `http://127.0.0.1:${port}`,
      token: 'SECRET-TOKEN',
      clientId: 'rep',
      attempts,
      retryDelayMs: 1,
    });

  /** A server answering each request as `respond` says, by attempt number ('drop': closes the connection). */
  async function serve(respond: (attempt: number) => number | 'drop'): Promise<{ api: OrderApi; server: Server }> {
    let attempt = 0;
    const server = createServer((request, response) => {
      request.resume();
      const what = respond(++attempt);
      if (what === 'drop') request.socket.destroy();
      else response.writeHead(what, { 'content-type': 'application/json' }).end('{"message":"m","orderId":"ord-1"}');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { api: client((server.address() as AddressInfo).port), server };
  }
  const post = async (respond: (attempt: number) => number | 'drop') =>
    (await serve(respond)).api.send('POST', '/order-entries', {}, { 'idempotency-key': 'rep-12345678' });

  it('marks an answer uncertain after a 5xx or a dropped connection, certain otherwise', async () => {
    expect(await post((n) => (n === 1 ? 503 : 422))).toMatchObject({ status: 422, uncertain: true });
    expect(await post((n) => (n === 1 ? 'drop' : 202))).toMatchObject({ status: 202, uncertain: true });
    // A 409 is a definite refusal (the intake never asks a retry to wait): answered at once, not retried.
    expect(await post((n) => (n === 1 ? 409 : 202))).toMatchObject({ status: 409, uncertain: false });
    expect(await post((n) => (n === 1 ? 429 : 422))).toMatchObject({ status: 422, uncertain: false });
    expect(await post(() => 503)).toMatchObject({ status: 503, uncertain: true });
  });

  it('throws NoAnswer, uncertain when a request may have arrived, without the token', async () => {
    const dropped = await post(() => 'drop').catch((error: unknown) => error);
    expect(dropped).toBeInstanceOf(NoAnswer);
    expect(dropped).toMatchObject({ uncertain: true });
    expect((dropped as Error).message).not.toContain('SECRET-TOKEN');
    // A port nothing listens on any more: the connection is refused, nothing was sent.
    const { server } = await serve(() => 202);
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const refused = await client(port, 2)
      .send('POST', '/order-entries', {}, { 'idempotency-key': 'rep-12345678' })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ name: 'NoAnswer', uncertain: false });
    expect((refused as Error).message).toMatch(/ECONNREFUSED$/);
  });
});
