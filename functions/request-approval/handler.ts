import { randomBytes } from 'node:crypto';
import { Mailer } from '../adapters/mailer.ts';
import { readSecret } from '../adapters/secrets.ts';
import { approvalEmail, approvalLink } from '../core/approval.ts';
import { remainingCredit } from '../core/credit.ts';
import { OrderCancelled } from '../core/errors.ts';
import { pricedOf } from '../core/order.ts';
import { type ApprovalRecord, RequestApprovalInput } from '../core/schemas.ts';
import { isClosedTask } from '../lib/approval-decision.ts';
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
    const priced = pricedOf(order);
    const fresh: ApprovalRecord = {
      approvalId: `apr-${randomBytes(16).toString('hex')}`,
      orderId,
      customerId: order.customerId,
      taskToken,
      reasons,
      status: 'PENDING',
      summary: {
        customerName: customer?.name ?? order.customerId,
        currency: order.currency,
        paymentMethod: order.payment.method,
        lines: priced.lines,
        totals: priced.totals,
        ...(customer && order.payment.method === 'on_account' ? { remainingCredit: remainingCredit(customer) } : {}),
      },
      requestedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + timeoutSeconds * 1000).toISOString(),
    };
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
  // Decided while this attempt was on its way: resume at once with the decision, this attempt's token.
  if (record.status === 'APPROVED' || record.status === 'REJECTED') {
    try {
      if (record.status === 'APPROVED') await workflow.succeed(taskToken, { approvalId: record.approvalId });
      else await workflow.fail(taskToken, 'ApprovalRejected', `Order ${orderId} was rejected by its approver`);
    } catch (error) {
      if (!isClosedTask(error)) throw error; // the decision route told this attempt first
    }
    await approvals.markResumed(record.approvalId);
  }
  if (record.status === 'PENDING' && !record.emailedAt && (await approvals.claimEmail(record.approvalId, clock()))) {
    const link = approvalLink(publicApiUrl, await readSecret(secretId), record.approvalId);
    await mailer.send({ to: [approversEmail], ...approvalEmail(record, link) });
    await approvals.markEmailed(record.approvalId, clock());
  }
  return { waiting: record.status === 'PENDING', approvalId: record.approvalId };
});
