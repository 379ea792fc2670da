import { readSecret } from '../adapters/secrets.ts';
import { principalLabel } from '../core/access.ts';
import { verifyApprovalSignature } from '../core/approval.ts';
import { ApprovalDecisionRequest, ApprovalId } from '../core/schemas.ts';
import { decideApproval } from '../lib/approval-decision.ts';
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

const secretId = requireEnv('APPROVAL_LINK_SECRET_ID');
const approvals = approvalsRepository();
const deps = {
  approvals,
  orders: ordersRepository(),
  customers: customersRepository(),
  credit: creditLedger(),
  workflow: taskTokens(),
  clock,
};

/**
 * POST /approvals/{approvalId} — an approver's decision, with the signature of the e-mailed link.
 * Single use; the waiting workflow resumes (see decideApproval).
 */
export const handler = httpRoute(async (event) => {
  const approvalId = pathParameter(event, 'approvalId', ApprovalId);
  const request = parseOr400(ApprovalDecisionRequest, jsonBody(event), 'decision');
  const by = callerOf(event).principal;
  const record = await approvals.get(approvalId);
  if (!record) throw new HttpError(404, 'ApprovalNotFound', `Approval ${approvalId} does not exist`);
  if (!verifyApprovalSignature(await readSecret(secretId), approvalId, request.signature))
    throw new HttpError(403, 'InvalidSignature', 'The signature is not the one of this approval’s link');
  const decision = { decision: request.decision, by, ...(request.comment ? { comment: request.comment } : {}) };
  const { orderId, status } = await decideApproval(deps, record, decision);
  return json(200, { approvalId, orderId, status, decidedBy: principalLabel(by) });
});
