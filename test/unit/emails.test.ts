import { describe, expect, it } from 'vitest';
import { cancelledFailure } from '../../functions/core/cancellation.ts';
import {
  backorderCancelledEmail,
  creditNoteEmail,
  creditNoteFinanceCopy,
  invoiceEmail,
  paymentReceiptEmail,
} from '../../functions/core/emails.ts';
import { creditNotePdfKey, invoicePdfKey } from '../../functions/core/invoice-number.ts';
import { SELLER } from '../../functions/core/seller.ts';

const totals = { subtotal: 10_000, tax: 1_900, total: 11_900, taxByRate: [], discount: 0 };

describe('document e-mails and keys', () => {
  it('store PDFs by series and year', () => {
    expect(invoicePdfKey('INV-2026-000042')).toBe('invoices/2026/INV-2026-000042.pdf');
    expect(creditNotePdfKey('CN-2026-000007')).toBe('credit-notes/2026/CN-2026-000007.pdf');
  });

  it('tell a customer on account when and where to pay, a card customer that it is paid', () => {
    const invoice = {
      invoiceNumber: 'INV-2026-000042',
      orderId: 'ord-1',
      customerName: 'Jane',
      totals,
      currency: 'EUR',
      dueDate: '2026-12-29T00:00:00.000Z',
      seller: SELLER,
      taxTreatment: 'domestic' as const,
    };
    const onAccount = invoiceEmail({ ...invoice, paymentMethod: 'on_account' });
    expect(onAccount.subject).toBe('Invoice INV-2026-000042 for order ord-1');
    expect(onAccount.text).toContain(`Please pay by 2026-12-29 to IBAN ${SELLER.bank.iban}.`);
    expect(invoiceEmail({ ...invoice, paymentMethod: 'card' }).text).toContain('It has been paid by card.');
  });

  it('say how a credit note is settled, with the refund for finance', () => {
    const note = {
      creditNoteNumber: 'CN-2026-000007',
      invoiceNumber: 'INV-2026-000042',
      customerId: 'CUST-1',
      customerName: 'Jane',
      totals,
      currency: 'EUR',
      settlement: 'refund' as const,
      seller: SELLER,
      refundId: 're_1',
    };
    expect(creditNoteEmail(note).text).toContain('is refunded to the card you paid with.');
    expect(creditNoteEmail({ ...note, settlement: 'balance' }).text).toContain('is deducted from your open balance.');
    expect(creditNoteFinanceCopy(note).text).toMatch(/customer CUST-1: .*\(refund re_1\)\.$/);
  });

  it('acknowledge the payment that settled an invoice', () => {
    const receipt = paymentReceiptEmail(
      { invoiceNumber: 'INV-2026-000042', customerName: 'Jane', amountPaid: 11_900, currency: 'EUR', seller: SELLER },
      { reference: 'BANK-1', receivedAt: '2026-12-01T10:00:00.000Z' },
    );
    expect(receipt.subject).toBe('Payment received: invoice INV-2026-000042');
    expect(receipt.text).toContain('last payment BANK-1 on 2026-12-01');
  });

  it('list the backordered lines that will not come', () => {
    const lines = [{ sku: 'DOCK-4K', quantity: 2 }];
    expect(backorderCancelledEmail('ord-1', lines, true).text).toContain(
      '  2 x DOCK-4K\n\nThe rest of your order ships',
    );
    expect(backorderCancelledEmail('ord-1', lines, false).text).toContain(
      'the order is cancelled and nothing is charged',
    );
  });

  it('name who cancelled by role and what compensation failed', () => {
    const failure = cancelledFailure(
      { by: { kind: 'user', id: 'jane@example.com', role: 'rep' } as never, reason: 'duplicate' },
      { code: 'OrderCancelled', message: 'x', compensationFailed: ['payment'] },
    );
    expect(failure.message).toMatch(/^Cancelled by .*: duplicate\. Compensation failed for: payment/);
    expect(failure.message).not.toContain('jane@example.com');
  });
});
