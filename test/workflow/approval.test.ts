import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalSignature } from '../../functions/core/approval.ts';
import { DEFAULT_APPROVAL_LINK_SECRET, type LocalRuntime } from '../../local/runtime.ts';
import { eventually, orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * Approvals on the local runtime with the real ASL: ValidateOrder sends high-value and over-credit
 * orders to AwaitApproval, the approvers get an e-mail with a signed link (local SES mailbox), and
 * an approver's POST resumes the workflow. The 48 h wait is compressed to a few seconds, the
 * high-value threshold lowered to EUR 1,000.00 by configuration.
 */
let runtime: LocalRuntime;
let client: TestClient;
/** Long enough for a test to read the approval e-mail and decide on a slow machine; short enough to watch silence. */
const APPROVAL_TIMEOUT_MS = 15_000;

beforeAll(async () => {
  runtime = await startTestRuntime({
    carrierDeliveryMs: 200,
    taskTimeoutOverrides: { AwaitApproval: { timeoutMs: APPROVAL_TIMEOUT_MS } },
    environment: { POWERTOOLS_LOG_LEVEL: 'ERROR', HIGH_VALUE_THRESHOLDS: 'EUR=100000' },
  });
  client = new TestClient(runtime);
});

afterAll(async () => {
  await runtime?.stop();
});

/** Four monitors: EUR 1,316.00 net, above the test threshold of EUR 1,000.00. */
const highValue = (overrides: Record<string, unknown> = {}) =>
  orderBody({ lines: [{ sku: 'MONITOR-27', quantity: 4, unitPrice: 32900 }], ...overrides });

/** The approvers' e-mail for an order, and the approval id and signature of its link. */
async function approvalMail(orderId: string) {
  const mail = await eventually(async () =>
    (await client.sentEmails()).find((e) => String(e.subject).includes(orderId)),
  );
  const text = String(mail.body.text);
  const link = /POST (\S+\/approvals\/(apr-[0-9a-f]{32})\?signature=([0-9a-f]{64}))/.exec(text);
  if (!link) throw new Error(`No decision link in: ${text}`);
  return { mail, text, url: link[1] as string, approvalId: link[2] as string, signature: link[3] as string };
}

const decide = (approvalId: string, body: Record<string, unknown>, as: string | null = 'approver') =>
  client.as(as).request('POST', `/approvals/${approvalId}`, body);

async function creditUsed(customerId: string): Promise<number> {
  const dynamo = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: runtime.urls.dynamodb,
    credentials: runtime.credentials,
  });
  const table = runtime.deployment.tables.find((t) => t.TableName?.includes('Customers'))?.TableName;
  const item = await dynamo.send(
    new GetItemCommand({ TableName: table, Key: { customerId: { S: customerId } }, ConsistentRead: true }),
  );
  dynamo.destroy();
  return Number(item.Item?.creditUsed?.N ?? Number.NaN);
}

describe('order approval on the local runtime', () => {
  it('holds a high-value order for an approver, who approves it once through the signed link; the timeline says who', async () => {
    const orderId = await client.placeOrder(highValue());
    const { mail, text, url, approvalId, signature } = await approvalMail(orderId);
    expect(mail.destination.to).toEqual(['approvals@example.com']);
    expect(url.startsWith(`${runtime.urls.api}/approvals/`)).toBe(true);
    expect(signature).toBe(approvalSignature(DEFAULT_APPROVAL_LINK_SECRET, approvalId));
    expect(text).toContain('Jane Doe (CUST-1002)');
    expect(text).toContain('4 x MONITOR-27');
    expect(text).toContain('above the high-value threshold');
    expect((await client.order(orderId)).status).toBe('VALIDATED');

    // Only approvers, only with the link's signature, only known approvals.
    expect((await decide(approvalId, { decision: 'approve', signature }, 'checkout')).status).toBe(403);
    expect((await decide(approvalId, { decision: 'approve', signature }, 'buyer')).status).toBe(403);
    expect((await decide(approvalId, { decision: 'approve', signature }, null)).status).toBe(401);
    const forged = await decide(approvalId, { decision: 'approve', signature: 'a'.repeat(64) });
    expect(forged.status).toBe(403);
    expect(forged.body?.error.code).toBe('InvalidSignature');
    const unknownId = `apr-${'0'.repeat(32)}`;
    const unknown = await decide(unknownId, {
      decision: 'approve',
      signature: approvalSignature(DEFAULT_APPROVAL_LINK_SECRET, unknownId),
    });
    expect(unknown.status).toBe(404);
    const invalid = await decide(approvalId, { decision: 'maybe', signature });
    expect(invalid.status).toBe(400);
    expect(invalid.body?.error.issues[0].path).toBe('decision');

    const approved = await decide(approvalId, { decision: 'approve', comment: 'Known customer', signature });
    expect(approved).toEqual({
      status: 200,
      body: { approvalId, orderId, status: 'APPROVED', decidedBy: 'user:approver' },
    });
    const again = await decide(approvalId, { decision: 'reject', signature });
    expect(again.status).toBe(409);
    expect(again.body?.error.code).toBe('ApprovalAlreadyDecided');
    expect((await decide(approvalId, { decision: 'approve', signature })).status).toBe(409);

    expect((await client.finished(orderId)).status).toBe('SUCCEEDED');
    const order = await client.order(orderId);
    expect(order.status).toBe('COMPLETED');
    const types = order.timeline.map((entry: { type: string }) => entry.type);
    expect(types.indexOf('ApprovalRequested')).toBeGreaterThan(types.indexOf('OrderValidated'));
    expect(types.indexOf('ApprovalGranted')).toBeLessThan(types.indexOf('OrderStockReserved'));
    // Machine clients see a person by role; staff see who.
    expect(order.timeline.find((e: { type: string }) => e.type === 'ApprovalGranted')).toMatchObject({
      by: 'user (approver)',
      comment: 'Known customer',
    });
    const staffView = (await client.as('ops').request('GET', `/orders/${orderId}`)).body as Record<string, any>;
    expect(staffView.timeline.find((e: { type: string }) => e.type === 'ApprovalGranted')?.by).toBe('user:approver');
    // One e-mail per approval.
    expect(
      (await client.sentEmails()).filter((e) => String(e.subject).includes(`Approval needed: order ${orderId}`)),
    ).toHaveLength(1);
  });

  it('rejects the order when the approver rejects it', async () => {
    const before = await client.product('MONITOR-27');
    const orderId = await client.placeOrder(highValue());
    const { approvalId, signature } = await approvalMail(orderId);
    const rejected = await decide(approvalId, { decision: 'reject', comment: 'Unusual quantity', signature });
    expect(rejected.body?.status).toBe('REJECTED');
    expect((await client.finished(orderId)).status).toBe('SUCCEEDED');
    const order = await client.order(orderId);
    expect(order.status).toBe('REJECTED');
    expect(order.failure).toEqual({
      code: 'ApprovalRejected',
      message: `Order ${orderId} was rejected by its approver`,
    });
    expect(order.timeline.find((e: { type: string }) => e.type === 'ApprovalRejected')).toMatchObject({
      by: 'user (approver)',
      comment: 'Unusual quantity',
    });
    expect(await client.product('MONITOR-27')).toEqual(before); // never reserved
  });

  it('rejects the order when nobody decides in time, and the link then answers 410', async () => {
    const orderId = await client.placeOrder(highValue());
    const { approvalId, signature } = await approvalMail(orderId);
    const execution = await client.finished(orderId, APPROVAL_TIMEOUT_MS + 20_000);
    expect(execution.status).toBe('SUCCEEDED');
    const order = await client.order(orderId);
    expect(order.status).toBe('REJECTED');
    expect(order.failure).toEqual({ code: 'ApprovalTimedOut', message: 'No approver decided on the order in time' });
    const late = await decide(approvalId, { decision: 'approve', signature });
    expect(late.status).toBe(410);
    expect(late.body?.error.code).toBe('ApprovalExpired');
  });

  it('sends an on-account order over the remaining credit to approval; approved, its hold is taken once', async () => {
    const usedBefore = await creditUsed('CUST-1003'); // limit 20000, 15000 in use
    const orderId = await client.placeOrder(
      orderBody({
        customerId: 'CUST-1003',
        lines: [{ sku: 'KEYBOARD-MX', quantity: 1, unitPrice: 11900 }],
        payment: { method: 'on_account' },
      }),
    );
    const { text, approvalId, signature } = await approvalMail(orderId);
    expect(text).toContain('exceeds the customer’s remaining credit');
    expect(text).not.toContain('high-value');
    expect(text).toMatch(/Remaining credit: .*50\.00/);
    expect(await creditUsed('CUST-1003')).toBe(usedBefore); // nothing held while it waits

    expect((await decide(approvalId, { decision: 'approve', signature })).status).toBe(200);
    const order = await client.waitForStatus(orderId, 'COMPLETED');
    const total = order.totals.total as number;
    expect(total).toBeGreaterThan(20_000 - usedBefore);
    // The approval lifted the limit for this order: its hold became its unpaid invoice, once.
    expect(await creditUsed('CUST-1003')).toBe(usedBefore + total);
    expect(order.timeline.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['ApprovalRequested', 'ApprovalGranted', 'OrderInvoiced', 'OrderCompleted']),
    );
  });
});
