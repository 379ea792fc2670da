import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { pdfText } from '../support/pdf-text.ts';
import { orderBody, startTestRuntime, TestClient } from '../support/runtime.ts';

/**
 * Price lists, discounts and VAT on the real ASL and handlers (local runtime, DynamoDB Local, S3, SES),
 * with the demo customers of local/seed.ts: a blocked one, a French business (reverse charge), a Swiss
 * one buying in CHF (export), a German one with 5 % discount.
 */
let runtime: LocalRuntime;
let client: TestClient;

beforeAll(async () => {
  runtime = await startTestRuntime({ carrierDeliveryMs: 200 });
  client = new TestClient(runtime);
});

afterAll(async () => {
  await runtime?.stop();
});

const paris = {
  name: 'Maison Dupont SARL',
  line1: '12 rue de la Paix',
  city: 'Paris',
  postalCode: '75002',
  country: 'FR',
};
const zurich = {
  name: 'Helvetia Instruments AG',
  line1: 'Bahnhofstr. 10',
  city: 'Zürich',
  postalCode: '8001',
  country: 'CH',
};

async function invoicePdfText(invoiceNumber: string): Promise<string> {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: runtime.urls.s3,
    forcePathStyle: true,
    credentials: { accessKeyId: 't', secretAccessKey: 't' },
  });
  const bucket = runtime.deployment.buckets.find((b) => b.includes('documents') && !b.includes('log')) as string;
  const pdf = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: `invoices/${invoiceNumber.slice(4, 8)}/${invoiceNumber}.pdf` }),
  );
  const bytes = (await pdf.Body?.transformToByteArray()) ?? new Uint8Array();
  return pdfText(bytes).join(' ').replace(/\s+/g, ' ');
}

async function invoiceEmailText(invoiceNumber: string): Promise<string> {
  const emails = await client.sentEmails();
  const email = emails.find((e) => String(e.subject).includes(invoiceNumber) && !String(e.subject).includes('finance'));
  return String(email?.body?.text ?? '');
}

describe('prices and tax on the local runtime', () => {
  it('rejects an order of a blocked customer by name, without touching stock', async () => {
    const before = await client.product('WIDGET-BLUE');
    const orderId = await client.placeOrder(orderBody({ customerId: 'CUST-1004' }));
    await client.finished(orderId);
    const order = await client.order(orderId);
    expect(order.status).toBe('REJECTED');
    expect(order.failure).toEqual({
      code: 'CustomerBlocked',
      message: 'Customer CUST-1004 is blocked and cannot place orders',
    });
    expect(await client.product('WIDGET-BLUE')).toEqual(before);
  });

  it('rejects a price that is not the list price, naming every such line', async () => {
    const orderId = await client.placeOrder(
      orderBody({
        lines: [
          { sku: 'WIDGET-BLUE', quantity: 1, unitPrice: 1250 },
          { sku: 'GADGET-PRO', quantity: 1, unitPrice: 8000 },
        ],
      }),
    );
    await client.finished(orderId);
    const order = await client.order(orderId);
    expect(order.status).toBe('REJECTED');
    expect(order.failure).toEqual({
      code: 'PriceMismatch',
      message: 'Prices differ from the price list: lines[1] GADGET-PRO list price 8900, given 8000',
    });
  });

  it('completes a reverse-charge order with no VAT, and its invoice PDF and e-mail say reverse charge', async () => {
    const orderId = await client.placeOrder(
      orderBody({
        customerId: 'CUST-1005',
        shippingAddress: paris,
        lines: [{ sku: 'GADGET-PRO', quantity: 2, unitPrice: 8900 }],
      }),
    );
    const order = await client.waitForStatus(orderId, 'COMPLETED');
    expect(order.taxTreatment).toBe('reverse_charge');
    expect(order.totals).toEqual({
      subtotal: 17_800,
      discount: 0,
      tax: 0,
      total: 17_800,
      taxByRate: [{ rateBasisPoints: 0, net: 17_800, tax: 0 }],
    });
    expect(order.invoices[0].total).toBe(17_800);
    const note = 'Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)';
    const pdf = await invoicePdfText(order.invoices[0].number);
    expect(pdf).toContain(note);
    expect(pdf).toContain('VAT ID: FR40303265045');
    expect(pdf).toContain('VAT 0% on EUR 178.00');
    expect(await invoiceEmailText(order.invoices[0].number)).toContain(note);
  });

  it('completes an export to Switzerland in CHF from the CHF price list, zero-rated', async () => {
    const orderId = await client.placeOrder(
      orderBody({
        customerId: 'CUST-1006',
        currency: 'CHF',
        shippingAddress: zurich,
        lines: [
          { sku: 'WIDGET-BLUE', quantity: 2, unitPrice: 1300 },
          { sku: 'BOOK-SETUP', quantity: 1, unitPrice: 2600 },
        ],
      }),
    );
    const order = await client.waitForStatus(orderId, 'COMPLETED');
    expect(order.currency).toBe('CHF');
    expect(order.taxTreatment).toBe('export');
    expect(order.totals).toMatchObject({ subtotal: 5200, tax: 0, total: 5200 });
    const pdf = await invoicePdfText(order.invoices[0].number);
    expect(pdf).toContain('Export delivery outside the EU: zero-rated');
    expect(pdf).toContain('CHF 52.00');
    expect(pdf).not.toContain('Reverse charge');
  });

  it("prices a domestic order with the customer's discount and VAT per rate", async () => {
    const orderId = await client.placeOrder(
      orderBody({
        customerId: 'CUST-1007',
        lines: [
          { sku: 'WIDGET-BLUE', quantity: 2, unitPrice: 1250 },
          { sku: 'BOOK-SETUP', quantity: 1, unitPrice: 2490 },
        ],
      }),
    );
    const order = await client.waitForStatus(orderId, 'COMPLETED');
    expect(order.taxTreatment).toBe('domestic');
    expect(order.lines.map((l: Record<string, number>) => [l.lineDiscount, l.lineSubtotal])).toEqual([
      [125, 2375],
      [125, 2365], // 124.5 rounds half up
    ]);
    expect(order.totals).toEqual({
      subtotal: 4740,
      discount: 250,
      tax: 617, // 451.25 -> 451 at 19 %, 165.55 -> 166 at 7 %
      total: 5357,
      taxByRate: [
        { rateBasisPoints: 1900, net: 2375, tax: 451 },
        { rateBasisPoints: 700, net: 2365, tax: 166 },
      ],
    });
    const pdf = await invoicePdfText(order.invoices[0].number);
    expect(pdf).toContain('VAT 19% on EUR 23.75');
    expect(pdf).toContain('VAT 7% on EUR 23.65');
    expect(pdf).not.toMatch(/Reverse charge|Export delivery|VAT exempt/);
  });

  it('refuses a product not priced in the order currency, naming the line', async () => {
    const orderId = await client.placeOrder(
      orderBody({
        customerId: 'CUST-1006',
        currency: 'CHF',
        shippingAddress: zurich,
        lines: [{ sku: 'GADGET-MINI', quantity: 1, unitPrice: 3900 }],
      }),
    );
    await client.finished(orderId);
    const order = await client.order(orderId);
    expect(order.status).toBe('REJECTED');
    expect(order.failure).toEqual({
      code: 'InvalidOrder',
      message: 'lines[0].sku: product GADGET-MINI has no price in CHF',
    });
  });
});
