import { createHmac, timingSafeEqual } from 'node:crypto';
import { formatMoney } from './money.ts';
import type { ApprovalNeed, ApprovalReason, ApprovalRecord } from './schemas.ts';

/** 48 hours: how long an order waits for an approver before it is rejected (ApprovalTimedOut). */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 172_800;

/** Gross totals above which any order needs an approver, per currency (minor units): EUR 5,000.00. */
export const DEFAULT_HIGH_VALUE_THRESHOLDS: Readonly<Record<string, number>> = { EUR: 500_000 };

/**
 * Whether an order waits for an approver, and why: an on-account order that does not fit in the
 * customer's remaining credit (`creditFits` false), or any order whose gross total is above the
 * high-value threshold of its currency (a currency without a threshold has none).
 */
export function approvalNeed(
  order: { total: number; currency: string; creditFits: boolean },
  thresholds: Readonly<Record<string, number>>,
): ApprovalNeed {
  const reasons: ApprovalReason[] = [];
  if (!order.creditFits) reasons.push('credit_limit');
  const threshold = thresholds[order.currency];
  if (threshold !== undefined && order.total > threshold) reasons.push('high_value');
  return { required: reasons.length > 0, reasons };
}

/** Parses `EUR=500000,USD=550000` (minor units per ISO currency). */
export function parseThresholds(value: string): Record<string, number> {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^([A-Z]{3})=(\d{1,15})$/.exec(entry);
      if (!match) throw new Error(`High-value thresholds: expected <CURRENCY>=<minor units>, got "${entry}"`);
      return [match[1] as string, Number(match[2])] as const;
    });
  return Object.fromEntries(entries);
}

/** The signature of an approval's decision link: hex HMAC-SHA256 of the approval id. */
export function approvalSignature(secret: string, approvalId: string): string {
  return createHmac('sha256', secret).update(approvalId).digest('hex');
}

export function verifyApprovalSignature(secret: string, approvalId: string, signature: string): boolean {
  const expected = Buffer.from(approvalSignature(secret, approvalId));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function approvalLink(publicApiUrl: string, secret: string, approvalId: string): string {
  return `${publicApiUrl.replace(/\/+$/, '')}/approvals/${encodeURIComponent(approvalId)}?signature=${approvalSignature(secret, approvalId)}`;
}

export type DecisionCheck =
  | { ok: true; replay: boolean }
  | { ok: false; status: 409 | 410; code: string; message: string };

/**
 * Whether a decision may be recorded. Single use: only a PENDING approval takes a decision, until
 * it expires. The same decision by the same principal on a decided approval whose workflow was not
 * yet told (an earlier call stopped half-way) is a replay that finishes that call's work.
 */
export function checkDecision(
  record: Pick<ApprovalRecord, 'status' | 'expiresAt' | 'decidedBy' | 'resumed' | 'approvalId'>,
  decision: { decision: 'approve' | 'reject'; by: { kind: string; id: string } },
  now: Date,
): DecisionCheck {
  const decided = record.status === 'APPROVED' ? 'approve' : record.status === 'REJECTED' ? 'reject' : undefined;
  if (decided) {
    const same =
      decided === decision.decision &&
      record.decidedBy?.kind === decision.by.kind &&
      record.decidedBy?.id === decision.by.id &&
      record.resumed !== true;
    if (same) return { ok: true, replay: true };
    return {
      ok: false,
      status: 409,
      code: 'ApprovalAlreadyDecided',
      message: `Approval ${record.approvalId} was already ${record.status.toLowerCase()}`,
    };
  }
  if (record.status === 'EXPIRED' || Date.parse(record.expiresAt) <= now.getTime()) {
    return {
      ok: false,
      status: 410,
      code: 'ApprovalExpired',
      message: `Approval ${record.approvalId} expired at ${record.expiresAt}; the order was rejected`,
    };
  }
  return { ok: true, replay: false };
}

/** The status an approval takes with a decision. */
export const decidedStatus = (decision: 'approve' | 'reject'): 'APPROVED' | 'REJECTED' =>
  decision === 'approve' ? 'APPROVED' : 'REJECTED';

const REASON_TEXT: Record<ApprovalReason, string> = {
  credit_limit: 'the order total exceeds the customer’s remaining credit',
  high_value: 'the order total is above the high-value threshold',
};

/** The approvers' e-mail: customer, lines, totals, reasons, remaining credit and the decision link. */
export function approvalEmail(record: ApprovalRecord, link: string): { subject: string; text: string } {
  const { summary } = record;
  const money = (amount: number) => formatMoney(amount, summary.currency);
  const lines = summary.lines.map(
    (line) => `  ${line.quantity} x ${line.sku} ${line.name} @ ${money(line.unitPrice)} = ${money(line.lineSubtotal)}`,
  );
  const text = [
    `Order ${record.orderId} waits for your approval.`,
    '',
    `Customer: ${summary.customerName} (${record.customerId})`,
    `Payment: ${summary.paymentMethod === 'on_account' ? 'on account' : 'card'}`,
    `Why: ${record.reasons.map((reason) => REASON_TEXT[reason]).join('; ')}`,
    '',
    'Lines:',
    ...lines,
    '',
    `Subtotal: ${money(summary.totals.subtotal)}`,
    `Tax: ${money(summary.totals.tax)}`,
    `Total: ${money(summary.totals.total)}`,
    ...(summary.remainingCredit !== undefined ? [`Remaining credit: ${money(summary.remainingCredit)}`] : []),
    '',
    `Decide before ${record.expiresAt} (the order is rejected after that):`,
    `POST ${link}`,
    'with an approver token and the body {"decision": "approve" | "reject", "comment": "…", "signature": "<the link\'s signature>"}.',
  ].join('\n');
  return { subject: `Approval needed: order ${record.orderId} (${money(summary.totals.total)})`, text };
}
