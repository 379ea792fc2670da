import { describe, expect, it } from 'vitest';
import {
  approvalEmail,
  approvalLink,
  approvalNeed,
  approvalSignature,
  checkDecision,
  DEFAULT_HIGH_VALUE_THRESHOLDS,
  parseThresholds,
  verifyApprovalSignature,
} from '../../functions/core/approval.ts';
import { APPROVED_CREDIT_CEILING, creditCeiling, remainingCredit } from '../../functions/core/credit.ts';
import { timelineOf } from '../../functions/core/order.ts';
import type { ApprovalRecord } from '../../functions/core/schemas.ts';
import { approvalConfig } from '../../functions/lib/config.ts';

const thresholds = { EUR: 500_000 };
const approver = { kind: 'user' as const, id: 'alice', role: 'approver' };
const now = new Date('2026-03-01T10:00:00.000Z');

const record = (overrides: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  approvalId: `apr-${'1'.repeat(32)}`,
  orderId: `ord-${'a'.repeat(26)}`,
  customerId: 'CUST-1003',
  taskToken: 'token-1',
  reasons: ['credit_limit'],
  status: 'PENDING',
  summary: {
    customerName: 'Globex Trading BV',
    currency: 'EUR',
    paymentMethod: 'on_account',
    lines: [
      {
        sku: 'KEYBOARD-MX',
        name: 'Mechanical keyboard',
        quantity: 2,
        unitPrice: 11_900,
        taxCategory: 'standard',
        taxRateBasisPoints: 1900,
        discountBasisPoints: 0,
        lineDiscount: 0,
        lineSubtotal: 23_800,
        lineTax: 4_522,
      },
    ],
    totals: {
      subtotal: 23_800,
      discount: 0,
      tax: 4_522,
      total: 28_322,
      taxByRate: [{ rateBasisPoints: 1900, net: 23_800, tax: 4_522 }],
    },
    remainingCredit: 5_000,
  },
  requestedAt: '2026-03-01T09:00:00.000Z',
  expiresAt: '2026-03-03T09:00:00.000Z',
  ...overrides,
});

describe('approval need', () => {
  it('asks for approval over the remaining credit, above the threshold, or both — and not otherwise', () => {
    expect(approvalNeed({ total: 500_000, currency: 'EUR', creditFits: true }, thresholds)).toEqual({
      required: false,
      reasons: [],
    });
    expect(approvalNeed({ total: 500_001, currency: 'EUR', creditFits: true }, thresholds)).toEqual({
      required: true,
      reasons: ['high_value'],
    });
    expect(approvalNeed({ total: 100, currency: 'EUR', creditFits: false }, thresholds)).toEqual({
      required: true,
      reasons: ['credit_limit'],
    });
    expect(approvalNeed({ total: 600_000, currency: 'EUR', creditFits: false }, thresholds).reasons).toEqual([
      'credit_limit',
      'high_value',
    ]);
    // A currency without a threshold has no high-value rule.
    expect(approvalNeed({ total: 10_000_000, currency: 'USD', creditFits: true }, thresholds).required).toBe(false);
  });

  it('reads thresholds per currency and the wait from the configuration, with documented defaults', () => {
    expect(parseThresholds('EUR=500000, USD=550000')).toEqual({ EUR: 500_000, USD: 550_000 });
    expect(() => parseThresholds('EUR=5000.00')).toThrow(/minor units/);
    expect(() => parseThresholds('euro=1')).toThrow(/CURRENCY/);
    expect(DEFAULT_HIGH_VALUE_THRESHOLDS).toEqual({ EUR: 500_000 });
    const saved = { ...process.env };
    try {
      delete process.env.HIGH_VALUE_THRESHOLDS;
      delete process.env.APPROVAL_TIMEOUT_SECONDS;
      expect(approvalConfig()).toEqual({ thresholds: { EUR: 500_000 }, timeoutSeconds: 172_800 });
      process.env.HIGH_VALUE_THRESHOLDS = 'GBP=400000';
      process.env.APPROVAL_TIMEOUT_SECONDS = '3600';
      expect(approvalConfig()).toEqual({ thresholds: { GBP: 400_000 }, timeoutSeconds: 3600 });
      process.env.APPROVAL_TIMEOUT_SECONDS = '0';
      expect(() => approvalConfig()).toThrow(/APPROVAL_TIMEOUT_SECONDS/);
    } finally {
      process.env = saved;
    }
  });

  it('lifts the credit limit for an approved order only: its hold fits under any credit in use', () => {
    const customer = { customerId: 'CUST-1003', creditLimit: 20_000, creditUsed: 15_000 };
    expect(remainingCredit(customer)).toBe(5_000);
    expect(() => creditCeiling(customer, 28_322)).toThrow(/remaining credit 5000/);
    expect(customer.creditUsed + 28_322).toBeLessThanOrEqual(APPROVED_CREDIT_CEILING);
  });
});

describe('approval link signature', () => {
  const id = `apr-${'f'.repeat(32)}`;

  it('is the hex HMAC-SHA256 of the approval id, checked in constant time', () => {
    const signature = approvalSignature('s3cret', id);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyApprovalSignature('s3cret', id, signature)).toBe(true);
    expect(verifyApprovalSignature('other', id, signature)).toBe(false);
    expect(verifyApprovalSignature('s3cret', `apr-${'e'.repeat(32)}`, signature)).toBe(false);
    expect(verifyApprovalSignature('s3cret', id, signature.slice(0, 63))).toBe(false);
    expect(verifyApprovalSignature('s3cret', id, signature.toUpperCase())).toBe(false);
  });

  it('builds the decision link on the public API URL', () => {
    expect(approvalLink('https://api.example.com/', 's3cret', id)).toBe(
      `https://api.example.com/approvals/${id}?signature=${approvalSignature('s3cret', id)}`,
    );
  });
});

describe('decision rules', () => {
  const approve = { decision: 'approve' as const, by: approver };

  it('takes a decision on a pending approval before it expires', () => {
    expect(checkDecision(record(), approve, now)).toEqual({ ok: true, replay: false });
  });

  it('is single use: a decided approval answers 409, whatever the decision', () => {
    const decided = record({ status: 'APPROVED', decidedBy: approver, resumed: true });
    expect(checkDecision(decided, approve, now)).toMatchObject({
      ok: false,
      status: 409,
      code: 'ApprovalAlreadyDecided',
    });
    expect(checkDecision(decided, { ...approve, decision: 'reject' }, now)).toMatchObject({ status: 409 });
    // Another approver cannot finish someone else's decision either.
    const unresumed = record({ status: 'REJECTED', decidedBy: approver });
    expect(checkDecision(unresumed, { decision: 'reject', by: { kind: 'user', id: 'bob' } }, now)).toMatchObject({
      status: 409,
    });
  });

  it("lets the same approver's identical retry finish a decision whose workflow was not told yet", () => {
    const unresumed = record({ status: 'APPROVED', decidedBy: approver });
    expect(checkDecision(unresumed, approve, now)).toEqual({ ok: true, replay: true });
  });

  it('answers 410 once the approval expired', () => {
    expect(checkDecision(record({ expiresAt: now.toISOString() }), approve, now)).toMatchObject({
      ok: false,
      status: 410,
      code: 'ApprovalExpired',
    });
    expect(checkDecision(record({ status: 'EXPIRED' }), approve, now)).toMatchObject({ status: 410 });
  });
});

describe('approval e-mail and timeline', () => {
  it('summarises customer, lines, totals, reasons and remaining credit, with the link', () => {
    const mail = approvalEmail(record(), 'https://api.example.com/approvals/x?signature=y');
    expect(mail.subject).toContain(`order ord-${'a'.repeat(26)}`);
    expect(mail.text).toContain('Globex Trading BV (CUST-1003)');
    expect(mail.text).toContain('2 x KEYBOARD-MX Mechanical keyboard');
    expect(mail.text).toContain('exceeds the customer’s remaining credit');
    expect(mail.text).toMatch(/Remaining credit: .*50\.00/);
    expect(mail.text).toContain('POST https://api.example.com/approvals/x?signature=y');
    const card = approvalEmail(
      record({
        reasons: ['high_value'],
        summary: { ...record().summary, paymentMethod: 'card', remainingCredit: undefined },
      }),
      'link',
    );
    expect(card.text).not.toContain('Remaining credit');
    expect(card.text).toContain('above the high-value threshold');
  });

  it("names the approver and their comment on the decision's timeline entry, by role to machine clients", () => {
    const order = {
      stages: {
        OrderReceived: '2026-03-01T09:00:00.000Z',
        ApprovalRequested: '2026-03-01T09:00:01.000Z',
        ApprovalGranted: '2026-03-01T09:30:00.000Z',
      },
      approval: {
        approvalId: 'apr-1',
        reasons: ['high_value' as const],
        decision: 'approve' as const,
        decidedBy: approver,
        comment: 'ok',
      },
    };
    expect(timelineOf(order, 'staff')).toEqual([
      { at: '2026-03-01T09:00:00.000Z', type: 'OrderReceived' },
      { at: '2026-03-01T09:00:01.000Z', type: 'ApprovalRequested' },
      { at: '2026-03-01T09:30:00.000Z', type: 'ApprovalGranted', by: 'user:alice', comment: 'ok' },
    ]);
    expect(timelineOf(order, 'client')[2]).toEqual({
      at: '2026-03-01T09:30:00.000Z',
      type: 'ApprovalGranted',
      by: 'user (approver)',
      comment: 'ok',
    });
  });
});
