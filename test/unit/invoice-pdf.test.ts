import { describe, expect, it } from 'vitest';
import { renderInvoicePdf } from '../../functions/adapters/invoice-pdf.ts';
import type { Invoice } from '../../functions/core/schemas.ts';
import { SELLER } from '../../functions/core/seller.ts';
import { pdfText } from '../support/pdf-text.ts';

const invoice: Invoice = {
  invoiceNumber: 'INV-2026-000042',
  orderId: 'ord-0123456789abcdefghijklmnop',
  customerId: 'CUST-2001',
  customerName: 'Łukasz Żółć',
  customerEmail: 'lukasz@example.com',
  issuedAt: '2026-11-29T10:00:00.000Z',
  currency: 'EUR',
  lines: [
    {
      sku: 'WIDGET-BLUE',
      name: 'Widget – синий',
      quantity: 2,
      unitPrice: 1250,
      taxRateBasisPoints: 1900,
      lineSubtotal: 2500,
      lineTax: 475,
    },
  ],
  totals: { subtotal: 2500, tax: 475, total: 2975 },
  billingAddress: {
    name: 'Łódź Żółć Ñandú',
    line1: 'Οδός Ερμού 12',
    line2: 'ул. Тверская 7',
    city: 'Москва',
    postalCode: '125009',
    country: 'RU',
  },
  paymentMethod: 'on_account',
  seller: { ...SELLER, address: ['Αθήνα'] },
  dueDate: '2026-12-29T10:00:00.000Z',
  status: 'open',
  amountPaid: 0,
  amountCredited: 0,
  customerVatId: 'DE811907980',
  taxTreatment: 'reverse_charge',
};

describe('invoice PDF', () => {
  it('renders names and addresses in Latin, Greek and Cyrillic scripts as they were typed', () => {
    const lines = pdfText(renderInvoicePdf(invoice));
    for (const expected of [
      'Łódź Żółć Ñandú',
      'Οδός Ερμού 12',
      'ул. Тверская 7',
      '125009 Москва',
      'Αθήνα',
      'Widget – синий',
      'INV-2026-000042',
      'EUR 29.75',
      'Due date: 2026-12-29',
      'VAT ID: DE811907980',
      `VAT ID: ${SELLER.vatId}`,
      SELLER.registration,
      'Status: open',
      'VAT 19% on EUR 25.00',
      'Reverse charge: VAT to be accounted for by the recipient',
    ])
      expect(lines.join('\n')).toContain(expected);
  });
});
