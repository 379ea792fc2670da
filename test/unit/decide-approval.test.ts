import type { Context } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { approvalSignature } from '../../functions/core/approval.ts';
import type { ApprovalRecord } from '../../functions/core/schemas.ts';
import { finishDecision } from '../../functions/lib/approval-decision.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';

/**
 * The decision route and the sweep's resume against in-memory repositories, to interleave what
 * DynamoDB and Step Functions would do between their calls: a retried AwaitApproval swapping the
 * token, a lost resume, an approver deciding their own order.
 */
const SECRET = 'approval-secret';
const ORDER_ID = 'ord-0000000000000000000000000a';
const APPROVAL_ID = `apr-${'a'.repeat(32)}`;

const state = vi.hoisted(() => ({
  approvals: new Map<string, Record<string, unknown>>(),
  order: {} as Record<string, unknown>,
  /** Tokens whose task no longer waits: answering them throws TaskTimedOut. */
  closed: new Set<string>(),
  told: [] as { token: string; outcome: string }[],
  /** Runs once just before the next SendTask call: what happens meanwhile elsewhere. */
  meanwhile: undefined as (() => void) | undefined,
}));

const closedTask = () => Object.assign(new Error('Task timed out'), { name: 'TaskTimedOut' });
const fakeTokens = {
  succeed: async (token: string) => send(token, 'success'),
  fail: async (token: string) => send(token, 'failure'),
};
function send(token: string, outcome: string) {
  const meanwhile = state.meanwhile;
  state.meanwhile = undefined;
  meanwhile?.();
  if (state.closed.has(token)) throw closedTask();
  state.closed.add(token);
  state.told.push({ token, outcome });
}
const fakeApprovals = {
  get: async (id: string) => structuredClone(state.approvals.get(id)) as ApprovalRecord | undefined,
  decide: async (id: string, decision: Record<string, unknown>, now: Date) => {
    const record = state.approvals.get(id) as Record<string, unknown>;
    if (record.status !== 'PENDING') return structuredClone(record) as ApprovalRecord;
    Object.assign(record, decision, { decidedAt: now.toISOString() });
    return undefined;
  },
  markResumed: async (id: string) => {
    Object.assign(state.approvals.get(id) as object, { resumed: true });
  },
  expire: async () => {},
};
const fakeOrders = {
  get: async () => structuredClone(state.order),
  recordStage: async (_orderId: string, stage: string) => {
    (state.order.stages as Record<string, string>)[stage] = new Date().toISOString();
    return { order: state.order as never, recorded: true };
  },
};

vi.mock('../../functions/adapters/secrets.ts', () => ({ readSecret: async () => SECRET }));
vi.mock('../../functions/lib/deps.ts', () => ({
  approvalsRepository: () => fakeApprovals,
  ordersRepository: () => fakeOrders,
  customersRepository: () => ({ find: async () => undefined }),
  creditLedger: () => ({ hold: async () => {} }),
  taskTokens: () => fakeTokens,
  clock: () => new Date(),
}));

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  APPROVAL_LINK_SECRET_ID: 'secret',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});

let handler: (event: unknown, context: Context) => Promise<{ statusCode: number; body: string }>;
beforeAll(async () => {
  handler = (await import('../../functions/decide-approval/handler.ts')).handler as never;
});

const approver = (username: string) =>
  checkoutHttpEvent({
    routeKey: 'POST /approvals/{approvalId}',
    pathParameters: { approvalId: APPROVAL_ID },
    body: JSON.stringify({ decision: 'approve', signature: approvalSignature(SECRET, APPROVAL_ID) }),
    requestContext: {
      authorizer: {
        jwt: {
          claims: { client_id: 'staff', username, 'cognito:groups': '[approver]', scope: 'sales/approvals.write' },
          scopes: ['sales/approvals.write'],
        },
      },
    } as never,
  });

const decide = async (username = 'alice') => {
  const response = await handler(approver(username), lambdaContext);
  return { status: response.statusCode, body: JSON.parse(response.body) };
};

beforeEach(() => {
  state.closed.clear();
  state.told.length = 0;
  state.meanwhile = undefined;
  state.approvals.clear();
  state.approvals.set(APPROVAL_ID, {
    approvalId: APPROVAL_ID,
    orderId: ORDER_ID,
    customerId: 'CUST-1001',
    taskToken: 'token-1',
    reasons: ['high_value'],
    status: 'PENDING',
    requestedAt: new Date(Date.now() - 60_000).toISOString(),
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  });
  state.order = {
    orderId: ORDER_ID,
    customerId: 'CUST-1001',
    status: 'VALIDATED',
    stages: {},
    payment: { method: 'card' },
    placedBy: { kind: 'user', id: 'rita', role: 'rep' },
    approval: { approvalId: APPROVAL_ID, reasons: ['high_value'] },
  };
});

describe('deciding an approval', () => {
  it('resumes the attempt that waits when AwaitApproval swapped the token after the decision route read it', async () => {
    // The route read token-1 (the handler's first get); before it tells the workflow, the task is
    // retried: token-1 no longer waits, the retry stored token-2 while the request was pending.
    state.meanwhile = () => {
      state.closed.add('token-1');
      Object.assign(state.approvals.get(APPROVAL_ID) as object, { taskToken: 'token-2' });
    };
    const response = await decide();
    expect(response.status).toBe(200);
    expect(state.told).toEqual([{ token: 'token-2', outcome: 'success' }]);
    expect(state.approvals.get(APPROVAL_ID)).toMatchObject({ status: 'APPROVED', resumed: true });
  });

  it('refuses an approver deciding an order they placed themselves (403, saying why)', async () => {
    state.order.placedBy = { kind: 'user', id: 'alice', role: 'approver' };
    const response = await decide('alice');
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('OwnOrder');
    expect(response.body.error.message).toContain('placed by you');
    expect(state.approvals.get(APPROVAL_ID)?.status).toBe('PENDING');
    expect(state.told).toEqual([]);
    // Another approver may.
    expect((await decide('bob')).status).toBe(200);
  });
});

describe('a decision whose resume was lost', () => {
  const deps = { approvals: fakeApprovals, orders: fakeOrders, workflow: fakeTokens, clock: () => new Date() };

  it('is resumed by the sweep with the current token, once, and the timeline gets its entry', async () => {
    // Recorded APPROVED, then the function died before SendTaskSuccess; a retry swapped the token since.
    Object.assign(state.approvals.get(APPROVAL_ID) as object, {
      status: 'APPROVED',
      decidedBy: { kind: 'user', id: 'alice', role: 'approver' },
      taskToken: 'token-2',
    });
    state.closed.add('token-1');
    expect(await finishDecision(deps, APPROVAL_ID)).toBe('resumed');
    expect(await finishDecision(deps, APPROVAL_ID)).toBe('done'); // the next sweep: nothing twice
    expect(state.told).toEqual([{ token: 'token-2', outcome: 'success' }]);
    expect((state.order.stages as Record<string, string>).ApprovalGranted).toBeDefined();
    expect(state.approvals.get(APPROVAL_ID)?.resumed).toBe(true);
  });

  it('leaves a pending approval alone and says closed when no workflow waits any more', async () => {
    expect(await finishDecision(deps, APPROVAL_ID)).toBe('pending');
    Object.assign(state.approvals.get(APPROVAL_ID) as object, { status: 'REJECTED' });
    state.closed.add('token-1');
    expect(await finishDecision(deps, APPROVAL_ID)).toBe('closed');
    expect(state.approvals.get(APPROVAL_ID)?.resumed).toBe(true);
  });
});
