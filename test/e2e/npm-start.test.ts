import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPortFree } from '../../local/ports.ts';
import { type NpmStart, npmStart, ROOT } from '../support/npm-start.ts';
import { eventually, orderBody } from '../support/runtime.ts';

/**
 * Starts the system the way a newcomer does (`npm start`, here on free ports), runs the README's
 * curl examples with the tokens they show, and takes one order through the HTTP API; the sandbox
 * carrier calls the signed webhook by itself.
 */
let system: NpmStart;
let ports: Record<string, number>;
const output = () => system.output();

beforeAll(async () => {
  system = await npmStart({ CARRIER_SANDBOX_DELIVERY_MS: '300' });
  ports = system.ports;
}, 200_000);

const run = promisify(execFile);
/** What a newcomer's shell has after `npm start` on these ports: `npm run token` finds the issuer. */
const shellEnv = () => ({ ...process.env, LOCAL_AUTH_PORT: String(ports.AUTH) });

/** `npm run -s token -- <client id>`, as the README shows it. */
async function token(clientId: string): Promise<string> {
  const { stdout } = await run('npm', ['run', '-s', 'token', '--', clientId], { cwd: ROOT, env: shellEnv() });
  return stdout.trim();
}

/** A bash block of the README, marked `<!-- e2e: name -->`, pointed at this run's API port. */
function readmeBlock(name: string): string {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const match = new RegExp(`<!-- e2e: ${name}\\b[^>]*-->\\s*\`\`\`bash\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README has no block marked e2e: ${name}`);
  return (match[1] as string)
    .replaceAll('http://127.0.0.1:3000', `http://127.0.0.1:${ports.API}`)
    .replaceAll('http://127.0.0.1:8005', `http://127.0.0.1:${ports.SES}`);
}

async function runReadmeBlock(name: string): Promise<{ stdout: string; stderr: string }> {
  return run('bash', ['-euo', 'pipefail', '-c', readmeBlock(name)], { cwd: ROOT, env: shellEnv(), timeout: 60_000 });
}

/** The block's output, one JSON document a line. */
async function readmeBlockJson(name: string): Promise<any[]> {
  const { stdout } = await runReadmeBlock(name);
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

afterAll(() => system?.stop());

describe('npm start', () => {
  it('prints every endpoint and answers /health', async () => {
    const api = `http://127.0.0.1:${ports.API}`;
    expect(output()).toContain(api);
    expect(output()).toContain(`http://127.0.0.1:${ports.SES}`);
    const health = await fetch(`${api}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: 'ok',
      checks: { dynamodb: 'ok', stepfunctions: 'ok', s3: 'ok', eventbridge: 'ok', ses: 'ok' },
    });
  });

  it('takes an order placed over HTTP to COMPLETED, carrier webhook included, and the invoice e-mail is viewable', async () => {
    const api = `http://127.0.0.1:${ports.API}`;
    const key = `e2e-${Date.now()}`;
    const authorization = `Bearer ${await token('checkout')}`;
    const place = () =>
      fetch(`${api}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key, authorization },
        body: JSON.stringify(orderBody()),
      });
    const first = await place();
    expect(first.status).toBe(202);
    const { orderId, status, links } = (await first.json()) as {
      orderId: string;
      status: string;
      links: { self: string };
    };
    expect(status).toBe('RECEIVED');
    expect(links.self).toBe(`/orders/${orderId}`);

    // Same key, same body: the same order, not a second one.
    const again = await place();
    expect(((await again.json()) as { orderId: string }).orderId).toBe(orderId);

    const order = await eventually(
      async () => {
        const response = await fetch(`${api}${links.self}`, { headers: { authorization } });
        const body = (await response.json()) as Record<string, any>;
        return body.status === 'COMPLETED' ? body : undefined;
      },
      30_000,
      200,
    );
    expect(order.shipments[0].status).toBe('DELIVERED');
    expect(order.timeline.map((e: { type: string }) => e.type)).toContain('OrderDelivered');

    const store = (await (await fetch(`http://127.0.0.1:${ports.SES}/store`)).json()) as {
      emails: Record<string, any>[];
    };
    const email = store.emails.find((e) => String(e.subject).includes(order.invoices[0].number));
    expect(email?.attachments?.[0]?.contentType).toBe('application/pdf');
    const viewer = await fetch(`http://127.0.0.1:${ports.SES}/`);
    expect(viewer.status).toBe(200);
  });

  it('answers bad input with 4xx naming the field', async () => {
    const api = `http://127.0.0.1:${ports.API}`;
    const authorization = `Bearer ${await token('checkout')}`;
    const response = await fetch(`${api}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `e2e-bad-${Date.now()}`, authorization },
      body: JSON.stringify(orderBody({ currency: 'euro' })),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; issues: { path: string }[] } };
    expect(body.error.code).toBe('ValidationError');
    expect(body.error.issues.map((i) => i.path)).toEqual(['currency']);
    expect((await fetch(`${api}/orders/ord-00000000000000000000000000`, { headers: { authorization } })).status).toBe(
      404,
    );
    const openapi = (await (await fetch(`${api}/openapi.json`)).json()) as { openapi: string };
    expect(openapi.openapi).toBe('3.1.0');
  });

  it('prints the token endpoint, the demo clients and an example that uses a token', () => {
    expect(output()).toContain(`http://127.0.0.1:${ports.AUTH}`);
    expect(output()).toMatch(/checkout, erp, buyer, rep, ops, finance, approver|checkout.*buyer.*approver/);
    expect(output()).toContain(`LOCAL_AUTH_PORT=${ports.AUTH} npm run -s token -- checkout`);
    expect(output()).toContain('authorization: Bearer $TOKEN');
  });

  it("runs the README's quick start: a token, an order placed with it, the order read back", async () => {
    const { stdout } = await runReadmeBlock('quick-start');
    const [placedLine, orderLine] = stdout.trim().split('\n');
    const placed = JSON.parse(placedLine as string) as { orderId: string; status: string };
    expect(placed.status).toBe('RECEIVED');
    const order = JSON.parse(orderLine as string) as Record<string, any>;
    expect(order.orderId).toBe(placed.orderId);
    expect(order.placedBy).toEqual({ kind: 'client', id: 'checkout' });
    expect(order.timeline[0]).toMatchObject({ type: 'OrderReceived', by: 'client:checkout' });
  });

  it("runs the README's roles example: 401 without a token, 403 for the checkout, the customers for a rep, stock for the ERP", async () => {
    const { stdout } = await runReadmeBlock('roles');
    const [noToken, checkout, customers, stock] = stdout.trim().split('\n');
    expect(noToken).toBe('401');
    expect(checkout).toBe('403');
    expect((JSON.parse(customers as string) as { customerId: string }[]).map((c) => c.customerId)).toContain(
      'CUST-1002',
    );
    expect(JSON.parse(stock as string)).toMatchObject({ sku: 'WIDGET-BLUE', warehouseId: 'WH-BERLIN', onHand: 400 });

    // The README's token request by hand, as an integration would make it.
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
    const byHand = /`(curl -s -u checkout:local-checkout-secret [^`]+)`/.exec(readme)?.[1] as string;
    const answer = await run('bash', ['-c', byHand.replace('127.0.0.1:8086', `127.0.0.1:${ports.AUTH}`)]);
    expect(JSON.parse(answer.stdout)).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
  });

  // The walk-throughs of the README's sections, in the order a newcomer would try them: each block
  // runs as written (tokens from `npm run token`, ids read from earlier answers, polling loops).
  it("runs the README's stock example: a count in Rotterdam, a receipt once per key, a write-off, the levels", async () => {
    const [count, receipt, writeOff, products] = await readmeBlockJson('stock');
    expect(count).toEqual({ sku: 'KEYBOARD-MX', warehouseId: 'WH-ROTTERDAM', onHand: 80, reserved: 0, available: 80 });
    expect(receipt.adjustment).toMatchObject({ delta: 20, warehouseId: 'WH-BERLIN', by: 'client:erp' });
    expect(receipt.stock).toMatchObject({ warehouseId: 'WH-BERLIN', onHand: 20, available: 20 });
    expect(writeOff.adjustment).toMatchObject({ delta: -2, warehouseId: 'WH-ROTTERDAM', by: 'user:ops' });
    const keyboard = products.find((p: { sku: string }) => p.sku === 'KEYBOARD-MX');
    expect(keyboard).toMatchObject({ onHand: 98, available: 98 });
    expect(keyboard.warehouses).toEqual([
      { warehouseId: 'WH-BERLIN', onHand: 20, reserved: 0, available: 20 },
      { warehouseId: 'WH-ROTTERDAM', onHand: 78, reserved: 0, available: 78 },
    ]);
  });

  it("runs the README's backorder example: 3 of 5 ship, a receipt fills the other 2, two shipments and invoices", async () => {
    const [berlin, rotterdam, waiting, receipt, done] = await readmeBlockJson('backorder');
    expect(berlin).toMatchObject({ warehouseId: 'WH-BERLIN', onHand: 3, available: 3 });
    expect(rotterdam).toMatchObject({ warehouseId: 'WH-ROTTERDAM', onHand: 0, available: 0 });
    expect(waiting[1]).toEqual([{ sku: 'MOUSE-ERGO', quantity: 2 }]);
    // The receipt answers the stock after the waiting order took its 2.
    expect(receipt.stock.available).toBe(8);
    expect(receipt.stock.onHand - receipt.stock.reserved).toBe(8);
    const [status, shipments, invoices] = done;
    expect(status).toBe('COMPLETED');
    expect(shipments).toBe(2);
    expect(invoices).toHaveLength(2);
    for (const number of invoices) expect(number).toMatch(/^INV-\d{4}-\d{6}$/);
  });

  it("runs the README's prices example: discount and VAT per rate, reverse charge, a price mismatch", async () => {
    const [discounted, reverseCharge, mismatch] = await readmeBlockJson('prices');
    expect(discounted.taxTreatment).toBe('domestic');
    expect(discounted.totals).toEqual({
      subtotal: 5927,
      discount: 313,
      tax: 843,
      total: 6770,
      taxByRate: [
        { rateBasisPoints: 1900, net: 3562, tax: 677 },
        { rateBasisPoints: 700, net: 2365, tax: 166 },
      ],
    });
    expect(reverseCharge).toMatchObject({
      taxTreatment: 'reverse_charge',
      totals: { subtotal: 3750, tax: 0, total: 3750 },
    });
    expect(mismatch.status).toBe('REJECTED');
    expect(mismatch.failure.code).toBe('PriceMismatch');
    expect(mismatch.failure.message).toContain('lines[0] WIDGET-BLUE list price 1250, given 1100');
  });

  it("runs the README's cancellation example: a rep cancels an order waiting for approval", async () => {
    const [answer, order] = await readmeBlockJson('cancel');
    expect(answer.cancellation).toMatchObject({
      reason: 'Ordered twice',
      kind: 'whole',
      by: { kind: 'user', role: 'rep' },
    });
    expect(order.orderId).toBe(answer.orderId);
    expect(order.status).toBe('CANCELLED');
    expect(order.failure.code).toBe('OrderCancelled');
    expect(order.quantities).toEqual([expect.objectContaining({ sku: 'GADGET-PRO', ordered: 3, cancelled: 3 })]);
  });

  it("runs the README's approval example: the approver approves with the e-mailed link, the order completes", async () => {
    const [decision, order] = await readmeBlockJson('approval');
    expect(decision).toMatchObject({ status: 'APPROVED', decidedBy: 'user:approver' });
    expect(decision.approvalId).toMatch(/^apr-/);
    expect(order.status).toBe('COMPLETED');
    expect(order.approval).toMatchObject({ type: 'ApprovalGranted', by: 'user:approver', comment: 'Known customer' });
  });

  it("runs the README's survey example: the delivered order's e-mailed link is opened, answered once", async () => {
    const [page, answer, again, feedback] = await readmeBlockJson('feedback');
    expect(page).toEqual({ page: 200 });
    expect(answer).toMatchObject({ orderId: expect.stringMatching(/^ord-/), score: 9, group: 'promoter' });
    expect(again).toEqual({ again: 409 });
    expect(feedback).toEqual({ score: 9, group: 'promoter', comment: 'Fast delivery', answeredAt: answer.answeredAt });
  });

  it("runs the README's CRM example: a won deal signed with openssl, delivered twice, one order completed", async () => {
    const [first, repeat, order] = await readmeBlockJson('crm');
    expect(first).toEqual({
      eventId: expect.stringMatching(/^evt-/),
      orderId: expect.stringMatching(/^ord-/),
      status: 'RECEIVED',
    });
    expect(repeat).toEqual(first);
    expect(order).toEqual({
      orderId: first.orderId,
      status: 'COMPLETED',
      customerId: 'CUST-1007',
      placedBy: { kind: 'client', id: 'crm' },
    });
  });

  it("runs the README's finance example: open invoices, a PDF, a credit note, a payment that settles the rest", async () => {
    try {
      const [open, invoice, creditNote, payment] = await readmeBlockJson('finance');
      expect(open.invoices.length).toBeGreaterThan(0);
      for (const listed of open.invoices) expect(listed.status).toBe('open');
      expect(invoice.invoiceNumber).toBe(open.invoices[0].invoiceNumber);
      expect(invoice.paymentMethod).toBe('on_account');
      expect(creditNote.creditNoteNumber).toMatch(/^CN-\d{4}-000001$/);
      expect(creditNote.invoiceNumber).toBe(invoice.invoiceNumber);
      const unit = invoice.lines[0];
      expect(creditNote.totals.subtotal).toBe(
        unit.unitPrice - Math.round((unit.unitPrice * unit.discountBasisPoints) / 10_000),
      );
      expect(payment.invoice).toMatchObject({ invoiceNumber: invoice.invoiceNumber, status: 'paid', outstanding: 0 });
      expect(payment.invoice.amountPaid).toBe(invoice.totals.total - creditNote.totals.total);
      for (const file of ['invoice.pdf', 'credit-note.pdf'])
        expect(readFileSync(`${ROOT}/${file}`).subarray(0, 5).toString()).toBe('%PDF-');
    } finally {
      for (const file of ['invoice.pdf', 'credit-note.pdf']) rmSync(`${ROOT}/${file}`, { force: true });
    }
  });

  it("runs the README's order search example: two pages, a customer's cancelled orders, a day, the buyer's own, a refusal", async () => {
    const [first, second, cancelled, today, own, refused] = await readmeBlockJson('find-orders');
    // The examples above placed orders of several customers: more than one page of two.
    expect(first.orders).toHaveLength(2);
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const both = [...first.orders, ...second.orders];
    expect(new Set(both.map((o: { orderId: string }) => o.orderId)).size).toBe(both.length);
    const created = both.map((o: { createdAt: string }) => o.createdAt);
    expect(created).toEqual([...created].sort().reverse());
    expect(cancelled.orders.length).toBeGreaterThan(0); // the cancellation example's order
    for (const o of cancelled.orders) expect(o).toMatchObject({ customerId: 'CUST-1003', status: 'CANCELLED' });
    for (const o of today.orders) expect(o.channel).toBe('web'); // (empty if the run crossed midnight UTC)
    expect(today.orders.length).toBeLessThanOrEqual(5);
    expect(own.orders.length).toBeGreaterThan(0); // the quick start's order
    for (const o of own.orders) expect(o.customerId).toBe('CUST-1002');
    expect(refused.error.issues.map((i: { path: string }) => i.path)).toEqual(['channel', 'limit']);
  });

  it("runs the README's KPI example: today's figures, in EUR, a backwards window refused by name", async () => {
    const [today, eur, refused] = await readmeBlockJson('kpis');
    // The examples above placed orders today (empty only if the run crossed midnight UTC).
    expect(today).toMatchObject({ currency: null });
    expect(today.ordersPlaced).toBeGreaterThanOrEqual(today.ordersCompleted);
    expect(eur.currency).toBe('EUR');
    for (const code of Object.keys(eur.revenue)) expect(code).toBe('EUR');
    expect(refused.error.issues.map((i: { path: string }) => i.path)).toEqual(['to']);
  });

  it("runs the README's e-mail example: the purchase order mailed to the inbox is acknowledged with its order id", async () => {
    const { stdout } = await runReadmeBlock('email');
    const [received, reply] = stdout.trim().split('\n');
    expect(JSON.parse(received as string)).toMatchObject({
      messageId: '<po-2026-0042@acme-retail.example>',
      stored: [{ key: expect.stringMatching(/^inbound\//) }],
    });
    expect(reply).toMatch(/^Order ord-[0-9a-z]{26} received: Purchase order PO-2026-0042$/);
  });

  it("runs the README's rep entry example: the order followed to COMPLETED, then shown", async () => {
    try {
      const { stdout } = await runReadmeBlock('rep-entry');
      const [orderId, ...rest] = stdout.trim().split('\n');
      expect(orderId).toMatch(/^ord-[0-9a-z]{26}$/);
      expect(rest).toContain(`Order ${orderId} COMPLETED`);
      expect(stdout).toContain(`Order ${orderId}  COMPLETED`);
      expect(stdout).toMatch(/Channel\s+rep \(reference PO-4711\)/);
      expect(stdout).toMatch(/OrderCompleted/);
    } finally {
      rmSync('/tmp/order-entry.out', { force: true });
    }
  });

  it('stops every child, the JVM included, on Ctrl-C', async () => {
    const exited = new Promise((resolve) => system.child.once('exit', (code, signal) => resolve(code ?? signal)));
    system.interrupt();
    // npm itself dies of the SIGINT, as in a terminal; the runtime underneath shuts down cleanly.
    expect([0, 'SIGINT']).toContain(await exited);
    await eventually(async () => (output().includes('SIGINT: stopping') ? true : undefined), 5_000);
    await eventually(async () => ((await isPortFree(ports.DYNAMODB as number, '0.0.0.0')) ? true : undefined), 10_000);
    expect(await isPortFree(ports.API as number)).toBe(true);
  });
});
