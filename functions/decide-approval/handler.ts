import { readSecret } from '../adapters/secrets.ts';
import { principalLabel } from '../core/access.ts';
import { checkDecision, decidedStatus, verifyApprovalSignature } from '../core/approval.ts';
import { APPROVED_CREDIT_CEILING } from '../core/credit.ts';
import { isTerminal } from '../core/order.ts';
import { ApprovalDecisionRequest, ApprovalId } from '../core/schemas.ts';
import { finishDecision } from '../lib/approval-decision.ts';
import { callerOf } from '../lib/caller.ts';
import { requireEnv } from '../lib/config.ts';
import {
  approvalsRepository,
  clock,
  creditLedger,
  customersRepository,
  ordersRepository,
  taskTokens,
} from '../lib/deps.ts';
import { HttpError, httpRoute, json, jsonBody, parseOr400, pathParameter } from '../lib/http.ts';
import { logger } from '../lib/powertools.ts';

const secretId = requireEnv('APPROVAL_LINK_SECRET_ID');
const approvals = approvalsRepository();
const orders = ordersRepository();
const customers = customersRepository();
const credit = creditLedger();
const workflow = taskTokens();

const expired = (approvalId: string, why: string) =>
  new HttpError(410, 'ApprovalExpired', `Approval ${approvalId} can no longer be decided: ${why}`);

/**
 * POST /approvals/{approvalId} — an approver's decision, with the signature of the e-mailed link.
 * Single use: recorded once (PENDING -> APPROVED/REJECTED); then the timeline says who decided and
 * the waiting workflow resumes. On approval an on-account order's credit hold is taken (the approval
 * lifts the limit for this order), before the decision is recorded, so a retry finds it held.
 */
export const handler = httpRoute(async (event) => {
  const approvalId = pathParameter(event, 'approvalId', ApprovalId);
  const request = parseOr400(ApprovalDecisionRequest, jsonBody(event), 'decision');
  const by = callerOf(event).principal;
  const record = await approvals.get(approvalId);
  if (!record) throw new HttpError(404, 'ApprovalNotFound', `Approval ${approvalId} does not exist`);
  if (!verifyApprovalSignature(await readSecret(secretId), approvalId, request.signature))
    throw new HttpError(403, 'InvalidSignature', 'The signature is not the one of this approval’s link');

  const now = clock();
  const refuse = async (check: Exclude<ReturnType<typeof checkDecision>, { ok: true }>) => {
    if (check.status === 410) await approvals.expire(approvalId);
    return new HttpError(check.status, check.code, check.message);
  };
  let check = checkDecision(record, { decision: request.decision, by }, now);
  if (!check.ok) throw await refuse(check);

  const order = await orders.get(record.orderId);
  // Four eyes: whoever placed the order does not approve or reject it.
  if (order.placedBy && order.placedBy.kind === by.kind && order.placedBy.id === by.id)
    throw new HttpError(
      403,
      'OwnOrder',
      `Order ${order.orderId} was placed by you: another approver decides approval ${approvalId}`,
    );
  if (isTerminal(order.status) && !check.replay) {
    await approvals.expire(approvalId);
    throw expired(approvalId, `order ${order.orderId} is already ${order.status}`);
  }
  if (order.cancellation && !check.replay) {
    await approvals.expire(approvalId);
    throw expired(approvalId, `order ${order.orderId} was cancelled`);
  }
  // Once ApprovalGranted is recorded the hold was taken (it comes first), and may since have become
  // the invoice's debt: a replay takes nothing again.
  const held = order.stages.ApprovalGranted !== undefined;
  if (request.decision === 'approve' && order.payment.method === 'on_account' && order.totals && !held) {
    const customer = await customers.find(order.customerId);
    // Guarded: held once, and never after the order's credit was given back.
    if (customer) await credit.hold(order.orderId, customer, order.totals.total, APPROVED_CREDIT_CEILING);
  }
  if (!check.replay) {
    const status = decidedStatus(request.decision);
    const stored = await approvals.decide(
      approvalId,
      { status, decidedBy: by, ...(request.comment ? { comment: request.comment } : {}) },
      now,
    );
    if (stored) {
      check = checkDecision(stored, { decision: request.decision, by }, now);
      if (!check.ok) throw await refuse(check);
    }
  }

  // The timeline entry and the resume, with the token stored now (see finishDecision).
  if ((await finishDecision({ approvals, orders, workflow, clock }, approvalId)) === 'closed') {
    logger.warn('Decision for a workflow that no longer waits', { orderId: order.orderId });
    throw expired(approvalId, `order ${order.orderId} no longer waits for it`);
  }
  return json(200, {
    approvalId,
    orderId: order.orderId,
    status: decidedStatus(request.decision),
    decidedBy: principalLabel(by),
  });
});
