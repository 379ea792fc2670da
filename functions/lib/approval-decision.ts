import type { ApprovalsRepository } from '../adapters/approvals-repository.ts';
import type { CreditLedger, CustomersRepository } from '../adapters/customers-repository.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import type { TaskTokens } from '../adapters/workflow-client.ts';
import { checkDecision, decidedStatus } from '../core/approval.ts';
import { APPROVED_CREDIT_CEILING } from '../core/credit.ts';
import { OrderClosed } from '../core/errors.ts';
import { isTerminal } from '../core/order.ts';
import type { ApprovalRecord, Principal } from '../core/schemas.ts';
import { HttpError } from './http.ts';
import { logger, logOrder } from './powertools.ts';

export interface DecisionDeps {
  approvals: Pick<ApprovalsRepository, 'get' | 'markResumed'>;
  orders: Pick<OrdersRepository, 'recordStage'>;
  workflow: Pick<TaskTokens, 'succeed' | 'fail'>;
  clock: () => Date;
}

/** The workflow stopped waiting (timed out, stopped, or the token was replaced): nothing to resume with it. */
export const isClosedTask = (error: unknown) =>
  error instanceof Error && ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'].includes(error.name);

/**
 * Finishes a recorded decision: the order's timeline entry, then the waiting workflow is told, with
 * the token stored NOW (read consistently after the decision: a retried AwaitApproval may have
 * swapped it meanwhile, and a token that no longer waits is retried with the current one), then
 * `resumed` is set. Used by the decision route and by the reconciler's sweep for a decision whose
 * resume was lost (a crash, a failed SendTask call). Safe to repeat.
 * Returns 'resumed', 'closed' (no workflow waits any more), 'done' (resumed before) or 'pending'.
 */
export async function finishDecision(
  deps: DecisionDeps,
  approvalId: string,
): Promise<'resumed' | 'closed' | 'done' | 'pending'> {
  let tried: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const record = await deps.approvals.get(approvalId);
    if (!record || (record.status !== 'APPROVED' && record.status !== 'REJECTED')) return 'pending';
    if (record.resumed) return 'done';
    // A token already refused and still the current one: the workflow no longer waits.
    if (record.taskToken === tried) break;
    const approve = record.status === 'APPROVED';
    if (attempt === 0) {
      try {
        await deps.orders.recordStage(record.orderId, approve ? 'ApprovalGranted' : 'ApprovalRejected', deps.clock(), {
          set: {
            approval: {
              approvalId,
              reasons: record.reasons,
              decision: approve ? 'approve' : 'reject',
              ...(record.decidedBy ? { decidedBy: record.decidedBy } : {}),
              ...(record.comment ? { comment: record.comment } : {}),
            },
          },
        });
      } catch (error) {
        if (!(error instanceof OrderClosed)) throw error;
      }
    }
    try {
      if (approve) await deps.workflow.succeed(record.taskToken, { approvalId, decision: 'approve' });
      else
        await deps.workflow.fail(
          record.taskToken,
          'ApprovalRejected',
          `Order ${record.orderId} was rejected by its approver`,
        );
      await deps.approvals.markResumed(approvalId);
      return 'resumed';
    } catch (error) {
      if (!isClosedTask(error)) throw error;
      tried = record.taskToken;
    }
  }
  await deps.approvals.markResumed(approvalId);
  return 'closed';
}

export interface DecideDeps {
  approvals: ApprovalsRepository;
  orders: OrdersRepository;
  customers: Pick<CustomersRepository, 'find'>;
  credit: Pick<CreditLedger, 'hold'>;
  workflow: Pick<TaskTokens, 'succeed' | 'fail'>;
  clock: () => Date;
}

export interface Decision {
  decision: 'approve' | 'reject';
  comment?: string;
  by: Principal;
}

const expired = (approvalId: string, why: string) =>
  new HttpError(410, 'ApprovalExpired', `Approval ${approvalId} can no longer be decided: ${why}`);

/**
 * An approver's decision on a stored approval request (its link's signature already checked).
 * Single use: recorded once (PENDING -> APPROVED/REJECTED); then the timeline says who decided and
 * the waiting workflow resumes. On approval an on-account order's credit hold is taken (the approval
 * lifts the limit for this order), before the decision is recorded, so a retry finds it held.
 * Refusals are HttpErrors (403 own order, 409 decided otherwise, 410 expired or no longer waiting).
 */
export async function decideApproval(deps: DecideDeps, record: ApprovalRecord, decision: Decision) {
  const { approvalId } = record;
  logOrder(record.orderId);
  const now = deps.clock();
  const refuse = async (check: Exclude<ReturnType<typeof checkDecision>, { ok: true }>) => {
    if (check.status === 410) await deps.approvals.expire(approvalId);
    return new HttpError(check.status, check.code, check.message);
  };
  let check = checkDecision(record, decision, now);
  if (!check.ok) throw await refuse(check);

  const order = await deps.orders.get(record.orderId);
  const { by } = decision;
  // Four eyes: whoever placed the order does not approve or reject it.
  if (order.placedBy && order.placedBy.kind === by.kind && order.placedBy.id === by.id)
    throw new HttpError(
      403,
      'OwnOrder',
      `Order ${order.orderId} was placed by you: another approver decides approval ${approvalId}`,
    );
  const closed = isTerminal(order.status)
    ? `order ${order.orderId} is already ${order.status}`
    : order.cancellation && `order ${order.orderId} was cancelled`;
  if (closed && !check.replay) {
    await deps.approvals.expire(approvalId);
    throw expired(approvalId, closed);
  }
  // Once ApprovalGranted is recorded the hold was taken (it comes first), and may since have become
  // the invoice's debt: a replay takes nothing again.
  const held = order.stages.ApprovalGranted !== undefined;
  if (decision.decision === 'approve' && order.payment.method === 'on_account' && order.totals && !held) {
    const customer = await deps.customers.find(order.customerId);
    // Guarded: held once, and never after the order's credit was given back.
    if (customer) await deps.credit.hold(order.orderId, customer, order.totals.total, APPROVED_CREDIT_CEILING);
  }
  if (!check.replay) {
    const status = decidedStatus(decision.decision);
    const stored = await deps.approvals.decide(
      approvalId,
      { status, decidedBy: by, ...(decision.comment ? { comment: decision.comment } : {}) },
      now,
    );
    if (stored) {
      check = checkDecision(stored, decision, now);
      if (!check.ok) throw await refuse(check);
    }
  }

  // The timeline entry and the resume, with the token stored now (see finishDecision).
  if ((await finishDecision(deps, approvalId)) === 'closed') {
    logger.warn('Decision for a workflow that no longer waits', { orderId: order.orderId });
    throw expired(approvalId, `order ${order.orderId} no longer waits for it`);
  }
  return { orderId: order.orderId, status: decidedStatus(decision.decision) };
}

/**
 * A request decided while this AwaitApproval attempt was on its way: the workflow resumes at once
 * with the decision, on this attempt's token (unless the decision route told it first).
 */
export async function resumeIfDecided(
  deps: { approvals: Pick<ApprovalsRepository, 'markResumed'>; workflow: Pick<TaskTokens, 'succeed' | 'fail'> },
  record: ApprovalRecord,
  taskToken: string,
): Promise<void> {
  if (record.status !== 'APPROVED' && record.status !== 'REJECTED') return;
  try {
    if (record.status === 'APPROVED') await deps.workflow.succeed(taskToken, { approvalId: record.approvalId });
    else
      await deps.workflow.fail(taskToken, 'ApprovalRejected', `Order ${record.orderId} was rejected by its approver`);
  } catch (error) {
    if (!isClosedTask(error)) throw error; // the decision route told this attempt first
  }
  await deps.approvals.markResumed(record.approvalId);
}
