import { randomBytes } from 'node:crypto';
import { Mailer } from '../adapters/mailer.ts';
import { readSecret } from '../adapters/secrets.ts';
import { approvalEmail, approvalLink, newApprovalRecord } from '../core/approval.ts';
import { OrderCancelled } from '../core/errors.ts';
import { RequestApprovalInput } from '../core/schemas.ts';
import { resumeIfDecided } from '../lib/approval-decision.ts';
import { requireEnv } from '../lib/config.ts';
import { approvalsRepository, clock, customersRepository, ordersRepository, taskTokens } from '../lib/deps.ts';
import { workflowTask } from '../lib/task.ts';

const orders = ordersRepository();
const approvals = approvalsRepository();
const customers = customersRepository();
const workflow = taskTokens();
const mailer = new Mailer(requireEnv('SENDER_EMAIL'), process.env.SES_CONFIGURATION_SET || undefined);
const approversEmail = requireEnv('APPROVERS_EMAIL');
const publicApiUrl = requireEnv('PUBLIC_API_URL');
const secretId = requireEnv('APPROVAL_LINK_SECRET_ID');

/**
 * AwaitApproval (.waitForTaskToken): stores the approval request with the task token (one per
 * order: a retry keeps the request and hands it its new token) and e-mails the approvers once a
 * summary with the signed decision link. POST /approvals/{approvalId} resumes the workflow.
 */
export const handler = workflowTask(RequestApprovalInput, async ({ orderId, taskToken, reasons, timeoutSeconds }) => {
  const order = await orders.get(orderId);
  let record = order.approval ? await approvals.get(order.approval.approvalId) : undefined;
  if (!record) {
    const now = clock();
    const customer = await customers.find(order.customerId);
    const approvalId = `apr-${randomBytes(16).toString('hex')}`;
    const fresh = newApprovalRecord({ approvalId, order, customer, taskToken, reasons, now, timeoutSeconds });
    const orderSide = orders.approvalRequested(orderId, { approvalId: fresh.approvalId, reasons }, now);
    if (await approvals.create(fresh, orderSide)) record = fresh;
    else {
      // Another attempt named its request first (or the order closed): go on with what is stored.
      const current = await orders.get(orderId);
      // Cancelled before its approval was requested: the workflow compensates, nobody is asked.
      if (current.cancellation && !current.approval) throw new OrderCancelled(orderId);
      if (!current.approval) return { waiting: false, closed: current.status };
      record = await approvals.get(current.approval.approvalId);
      if (!record) throw new Error(`Approval ${current.approval.approvalId} of order ${orderId} is missing`);
    }
  }
  record = record.taskToken === taskToken ? record : await approvals.waitWith(record.approvalId, taskToken);
  await resumeIfDecided({ approvals, workflow }, record, taskToken);
  if (record.status === 'PENDING' && !record.emailedAt) {
    const pending = record;
    // A failed send throws (the state machine retries it), as does another attempt's send still under way.
    await approvals.emailOnce(pending.approvalId, clock, async () => {
      const link = approvalLink(publicApiUrl, await readSecret(secretId), pending.approvalId);
      await mailer.send({ to: [approversEmail], ...approvalEmail(pending, link) });
    });
  }
  return { waiting: record.status === 'PENDING', approvalId: record.approvalId };
});
