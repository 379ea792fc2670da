import type { ApprovalsRepository } from '../adapters/approvals-repository.ts';
import type { OrdersRepository } from '../adapters/orders-repository.ts';
import type { TaskTokens } from '../adapters/workflow-client.ts';
import { OrderClosed } from '../core/errors.ts';

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
