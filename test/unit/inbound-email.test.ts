import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SESEvent, SESEventRecord, SESReceipt } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import PostalMime from 'postal-mime';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { OutgoingEmail } from '../../functions/adapters/mailer.ts';
import { IdempotencyKeyReused, InvalidOrder } from '../../functions/core/errors.ts';
import type { Customer } from '../../functions/core/schemas.ts';
import {
  type InboundEmailDeps,
  messageFingerprint,
  receiveOrderEmail,
  senderDropReason,
  verdictDropReason,
} from '../../functions/lib/inbound-email.ts';
import { logger } from '../../functions/lib/powertools.ts';
import { DEMO_CUSTOMERS } from '../../local/seed.ts';
import { lambdaContext } from '../support/lambda-events.ts';

// The S3 adapter speaks HTTP itself (no SDK client to mock): its one call is replaced here.
const s3Send = vi.hoisted(() => vi.fn());
vi.mock('../../functions/adapters/clients/s3.ts', () => ({ s3Send }));

const EXAMPLE = readFileSync(new URL('../../local/examples/purchase-order.eml', import.meta.url));
const acme = DEMO_CUSTOMERS.find((c) => c.customerId === 'CUST-1001') as Customer;

const PASS = { status: 'PASS' } as const;
const FAIL = { status: 'FAIL' } as const;
const GRAY = { status: 'GRAY' } as const;
function record(receipt: Partial<SESReceipt> = {}, mail: Partial<SESEventRecord['ses']['mail']> = {}): SESEventRecord {
  return {
    eventSource: 'aws:ses',
    eventVersion: '1.0',
    ses: {
      mail: {
        timestamp: '2026-03-02T08:15:01.000Z',
        source: 'orders@acme-retail.example',
        messageId: 'ses0001',
        destination: ['orders@example.com'],
        headersTruncated: false,
        headers: [],
        commonHeaders: { returnPath: 'orders@acme-retail.example', date: '', messageId: '' },
        ...mail,
      },
      receipt: {
        timestamp: '2026-03-02T08:15:01.000Z',
        processingTimeMillis: 10,
        recipients: ['orders@example.com'],
        spamVerdict: PASS,
        virusVerdict: PASS,
        spfVerdict: PASS,
        dkimVerdict: PASS,
        dmarcVerdict: PASS,
        action: {
          type: 'Lambda',
          functionArn: 'arn:aws:lambda:us-east-1:1:function:InboundEmail',
          invocationType: 'Event',
        },
        ...receipt,
      },
    },
  };
}

/** A message as a mail program writes it, with the example's headers unless told otherwise. */
function message(body: string, headers: Record<string, string> = {}): Uint8Array {
  const all: Record<string, string> = {
    From: 'Acme Retail Purchasing <orders@acme-retail.example>',
    To: 'orders@example.com',
    Subject: 'PO',
    'Message-ID': '<po-1@acme-retail.example>',
    ...headers,
  };
  const head = Object.entries(all)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}`);
  return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', body].join('\r\n'));
}

function fakes(raw: Uint8Array = EXAMPLE, customer: Customer | null = acme) {
  const sent: { email: OutgoingEmail; digest: string }[] = [];
  const digests = new Set<string>();
  const deps = {
    readMessage: vi.fn<InboundEmailDeps['readMessage']>(async () => raw),
    findCustomerByEmail: vi.fn<InboundEmailDeps['findCustomerByEmail']>(async () => customer ?? undefined),
    enterOrder: vi.fn<InboundEmailDeps['enterOrder']>(async () => ({
      orderId: 'ord-01jqexampleorder0000000000',
      status: 'RECEIVED' as const,
    })),
    // As the reply ledger does: the same reply (digest) goes out once.
    replyOnce: vi.fn(async (email: OutgoingEmail, digest: string) => {
      if (digests.has(digest)) return false;
      digests.add(digest);
      sent.push({ email, digest });
      return true;
    }),
    senderEmail: 'invoices@example.com',
  } satisfies InboundEmailDeps;
  return { deps, sent };
}
const context = lambdaContext as Context;

describe('verdicts: what is dropped without a reply', () => {
  it.each([
    ['spam', { spamVerdict: FAIL }],
    ['virus', { virusVerdict: FAIL }],
    ['sender-not-authenticated', { spfVerdict: FAIL, dkimVerdict: FAIL, dmarcVerdict: GRAY }],
    ['sender-not-authenticated', { spfVerdict: GRAY, dkimVerdict: PASS, dmarcVerdict: GRAY }],
    ['dmarc-failed', { dmarcVerdict: FAIL, dmarcPolicy: 'reject' as const }],
    ['dmarc-failed', { dmarcVerdict: FAIL, dmarcPolicy: 'quarantine' as const }],
    ['dmarc-failed', { dmarcVerdict: FAIL, dmarcPolicy: 'none' as const }],
  ])('%s: the message is not read, nothing is ordered or answered', async (reason, verdicts) => {
    const { deps, sent } = fakes();
    expect(await receiveOrderEmail(deps, record(verdicts))).toEqual({ outcome: 'dropped', reason });
    expect(deps.readMessage).not.toHaveBeenCalled();
    expect(deps.enterOrder).not.toHaveBeenCalled();
    expect(sent).toEqual([]);
  });

  it('reads mail that DMARC passed, or whose SPF passed (for some domain: alignment is checked on the From address)', () => {
    const receipt = record().ses.receipt;
    expect(verdictDropReason({ ...receipt, spfVerdict: FAIL, dkimVerdict: FAIL })).toBeUndefined(); // DMARC PASS
    expect(verdictDropReason({ ...receipt, dkimVerdict: FAIL, dmarcVerdict: GRAY })).toBeUndefined(); // SPF PASS
  });
});

describe('the sender: only an authenticated From domain finds a customer', () => {
  // The customer's domain publishes no DMARC policy (SES: GRAY); SPF and DKIM pass for whoever sent it.
  const noDmarc = { spfVerdict: PASS, dkimVerdict: PASS, dmarcVerdict: GRAY };

  it("a forged From: SPF and DKIM pass for the attacker's own domain, no DMARC: dropped, no order, no reply, no address logged", async () => {
    const { deps, sent } = fakes();
    const warn = vi.spyOn(logger, 'warn');
    const outcome = await receiveOrderEmail(deps, record(noDmarc, { source: 'bounce@attacker.example' }));
    expect(outcome).toEqual({ outcome: 'dropped', reason: 'spf-not-aligned' });
    expect(deps.findCustomerByEmail).not.toHaveBeenCalled();
    expect(deps.enterOrder).not.toHaveBeenCalled();
    expect(sent).toEqual([]);
    const [message, fields] = warn.mock.calls.at(-1) ?? [];
    expect(message).toBe('Inbound e-mail dropped');
    expect(fields).toEqual({
      sesMessageId: 'ses0001',
      reason: 'spf-not-aligned',
      verdicts: { spf: 'PASS', dkim: 'PASS', dmarc: 'GRAY' },
    });
    expect(JSON.stringify(fields)).not.toContain('@');
    warn.mockRestore();
  });

  it.each([
    ['SPF for a subdomain of the From domain only', 'bounce@mail.acme-retail.example'],
    ['SPF for a look-alike domain', 'orders@acme-retail.example.attacker.example'],
    ['no envelope domain', 'orders'],
  ])('not aligned (%s): dropped', async (_, source) => {
    const { deps, sent } = fakes();
    expect(await receiveOrderEmail(deps, record(noDmarc, { source }))).toEqual({
      outcome: 'dropped',
      reason: 'spf-not-aligned',
    });
    expect(sent).toEqual([]);
  });

  it('aligned SPF (the envelope sender in the From domain, any case) without DMARC: ordered', async () => {
    const { deps } = fakes();
    const outcome = await receiveOrderEmail(deps, record(noDmarc, { source: 'Bounces@ACME-Retail.example' }));
    expect(outcome).toMatchObject({ outcome: 'ordered', replied: true });
  });

  it('DMARC passed: ordered, whoever the envelope sender is (a mail service sending for the customer)', async () => {
    const { deps } = fakes();
    const receipt = { spfVerdict: PASS, dkimVerdict: PASS, dmarcVerdict: PASS };
    const outcome = await receiveOrderEmail(deps, record(receipt, { source: 'bounce@esp.example' }));
    expect(outcome).toMatchObject({ outcome: 'ordered' });
  });

  it.each([
    [
      'two From headers',
      message('WIDGET-BLUE x 1', { From: 'x@attacker.example\r\nFrom: orders@acme-retail.example' }),
    ],
    ['two addresses in From', message('WIDGET-BLUE x 1', { From: 'orders@acme-retail.example, x@attacker.example' })],
  ])('%s: dropped (which one was authenticated?)', async (_, raw) => {
    const { deps, sent } = fakes(raw);
    expect(await receiveOrderEmail(deps, record())).toEqual({
      outcome: 'dropped',
      reason: 'ambiguous-sender',
    });
    expect(deps.enterOrder).not.toHaveBeenCalled();
    expect(sent).toEqual([]);
  });

  it('senderDropReason: DMARC PASS, or SPF PASS aligned; otherwise why not', () => {
    const receipt = record().ses.receipt;
    const from = 'orders@acme-retail.example';
    expect(senderDropReason({ ...receipt, spfVerdict: FAIL }, 'x@other.example', from)).toBeUndefined();
    expect(senderDropReason({ ...receipt, dmarcVerdict: GRAY }, 'x@acme-retail.example.', from)).toBeUndefined();
    expect(senderDropReason({ ...receipt, dmarcVerdict: GRAY }, 'x@other.example', from)).toBe('spf-not-aligned');
    expect(senderDropReason({ ...receipt, dmarcVerdict: GRAY, spfVerdict: GRAY }, 'x@acme-retail.example', from)).toBe(
      'sender-not-authenticated',
    );
  });
});

describe('mail that is never answered', () => {
  it.each([
    ['auto-reply', message('WIDGET-BLUE x 1', { 'Auto-Submitted': 'auto-replied (vacation)' }), {}],
    ['bounce', message('WIDGET-BLUE x 1'), { source: '' }],
    ['bounce', message('WIDGET-BLUE x 1'), { source: 'MAILER-DAEMON@mx.acme-retail.example' }],
    ['own-reply', message('WIDGET-BLUE x 1', { From: 'invoices@example.com' }), {}],
    ['no-sender-address', message('WIDGET-BLUE x 1', { From: 'undisclosed-recipients:;' }), {}],
  ])('%s: dropped without a reply (no mail loops)', async (reason, raw, mail) => {
    const { deps, sent } = fakes(raw);
    expect(await receiveOrderEmail(deps, record({}, mail))).toEqual({ outcome: 'dropped', reason });
    expect(deps.enterOrder).not.toHaveBeenCalled();
    expect(sent).toEqual([]);
  });
});

describe('an order e-mail from a known customer', () => {
  it('is entered under the customer and its Message-ID, and acknowledged once, as a reply', async () => {
    const { deps, sent } = fakes();
    const outcome = await receiveOrderEmail(deps, record());
    expect(outcome).toEqual({ outcome: 'ordered', orderId: 'ord-01jqexampleorder0000000000', replied: true });
    expect(deps.findCustomerByEmail).toHaveBeenCalledWith('orders@acme-retail.example');
    expect(deps.enterOrder).toHaveBeenCalledWith({
      channel: 'email',
      idempotencyKey: 'CUST-1001:po-2026-0042@acme-retail.example',
      entry: {
        customerId: 'CUST-1001',
        externalReference: 'PO-2026-0042',
        payment: 'on_account',
        lines: [
          { sku: 'WIDGET-BLUE', quantity: 2 },
          { sku: 'GADGET-MINI', quantity: 1, unitPrice: 3900 },
        ],
      },
      placedBy: { kind: 'client', id: 'email' },
    });
    const [reply] = sent;
    expect(reply?.email.to).toEqual(['orders@acme-retail.example']);
    expect(reply?.email.subject).toBe('Order ord-01jqexampleorder0000000000 received: Purchase order PO-2026-0042');
    expect(reply?.email.text).toContain('placed order ord-01jqexampleorder0000000000');
    expect(reply?.email.text).toContain('Your reference: PO-2026-0042');
    expect(reply?.email.text).toContain('  2 x WIDGET-BLUE\n  1 x GADGET-MINI at EUR 39.00');
    expect(reply?.email.headers).toEqual([
      { name: 'Auto-Submitted', value: 'auto-replied' },
      { name: 'In-Reply-To', value: '<po-2026-0042@acme-retail.example>' },
      { name: 'References', value: '<po-2026-0042@acme-retail.example>' },
    ]);
  });

  it('delivered again (another SES delivery of the same message): the same order, no second reply', async () => {
    const { deps, sent } = fakes();
    await receiveOrderEmail(deps, record());
    const again = await receiveOrderEmail(deps, record({}, { messageId: 'ses0002' }));
    expect(again).toMatchObject({ outcome: 'ordered', replied: false });
    expect(deps.enterOrder.mock.calls[1]?.[0].idempotencyKey).toBe(deps.enterOrder.mock.calls[0]?.[0].idempotencyKey);
    expect(sent).toHaveLength(1);
  });

  it('without a Message-ID: keyed by a hash of what the sender wrote, and the reply has no In-Reply-To', async () => {
    const { deps, sent } = fakes(message('WIDGET-BLUE x 1', { 'Message-ID': '' }));
    await receiveOrderEmail(deps, record({}, { messageId: 'ses-abc' }));
    expect(deps.enterOrder.mock.calls[0]?.[0].idempotencyKey).toMatch(/^CUST-1001:sha256:[0-9a-f]{64}$/);
    expect(sent[0]?.email.headers).toEqual([{ name: 'Auto-Submitted', value: 'auto-replied' }]);
  });

  it('without a Message-ID, re-sent (another SES delivery, other trace headers): the same order, answered once', async () => {
    const sentBy = (headers: string) =>
      Buffer.concat([
        Buffer.from(headers),
        message('WIDGET-BLUE x 1', { 'Message-ID': '', Date: 'Mon, 02 Mar 2026 09:15:00 +0100' }),
      ]);
    const first = sentBy(
      'Received: from mx1.acme-retail.example by inbound-smtp (10:15:01)\r\nX-SES-Receipt: AEFBQUFB\r\n',
    );
    const again = sentBy(
      'Received: from mx2.acme-retail.example by inbound-smtp (11:20:44)\r\nX-SES-Receipt: QkJCQkJC\r\n',
    );
    const { deps, sent } = fakes(first);
    deps.readMessage.mockResolvedValueOnce(first).mockResolvedValueOnce(again);
    await receiveOrderEmail(deps, record({}, { messageId: 'ses-first' }));
    expect(await receiveOrderEmail(deps, record({}, { messageId: 'ses-again' }))).toMatchObject({
      outcome: 'ordered',
      replied: false,
    });
    const [one, two] = deps.enterOrder.mock.calls.map((call) => call[0].idempotencyKey);
    expect(one).toMatch(/^CUST-1001:sha256:/);
    expect(two).toBe(one);
    expect(sent).toHaveLength(1);
  });

  it('the fingerprint tells apart what the sender wrote: another body, date, subject or sender is another message', async () => {
    const fingerprint = async (raw: Uint8Array) => messageFingerprint(raw, (await PostalMime.parse(raw)).headers);
    const base = { 'Message-ID': '', Date: 'Mon, 02 Mar 2026 09:15:00 +0100' };
    const original = await fingerprint(message('WIDGET-BLUE x 1', base));
    expect(original).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Header folding and line endings of a relay do not matter.
    expect(
      await fingerprint(
        Buffer.from(
          Buffer.from(message('WIDGET-BLUE x 1', base)).toString().replace('Subject: PO', 'Subject:\r\n  PO'),
        ),
      ),
    ).toBe(original);
    for (const other of [
      message('WIDGET-BLUE x 2', base),
      message('WIDGET-BLUE x 1', { ...base, Date: 'Tue, 03 Mar 2026 09:15:00 +0100' }),
      message('WIDGET-BLUE x 1', { ...base, Subject: 'PO 2' }),
      message('WIDGET-BLUE x 1', { ...base, From: 'other@acme-retail.example' }),
    ])
      expect(await fingerprint(other)).not.toBe(original);
  });

  it('a transient failure is thrown too', async () => {
    const { deps, sent } = fakes();
    deps.readMessage.mockRejectedValueOnce(Object.assign(new Error('slow down'), { name: 'SlowDown' }));
    await expect(receiveOrderEmail(deps, record())).rejects.toThrow('slow down');
    expect(sent).toEqual([]);
  });
});

describe('the error replies', () => {
  it('unknown sender: says the address is not a known ordering address; nothing is entered', async () => {
    const { deps, sent } = fakes(EXAMPLE, null);
    expect(await receiveOrderEmail(deps, record())).toEqual({
      outcome: 'refused',
      reason: 'unknown-sender',
      problems: 1,
      replied: true,
    });
    expect(deps.enterOrder).not.toHaveBeenCalled();
    expect(sent[0]?.email.to).toEqual(['orders@acme-retail.example']);
    expect(sent[0]?.email.subject).toBe('Order not placed: Purchase order PO-2026-0042');
    expect(sent[0]?.email.text).toContain('not a known ordering address');
  });

  it('a body with problems: every one by line, and the format; nothing is entered', async () => {
    const { deps, sent } = fakes(message('Hi!\n\nWIDGET-BLUE x two\nGADGET-MINI x 1\nPolicy: soon'));
    expect(await receiveOrderEmail(deps, record())).toMatchObject({ reason: 'invalid', problems: 3 });
    expect(deps.enterOrder).not.toHaveBeenCalled();
    const text = sent[0]?.email.text ?? '';
    expect(text).toContain('The problems (3):');
    expect(text).toMatch(/ {2}line 1: "Hi!" is not an order line/);
    expect(text).toContain('  line 3: quantity "two" is not a whole number');
    expect(text).toContain('  line 5: Policy "soon" must be all_or_nothing or ship_available');
    expect(text).toContain('SKU x QUANTITY');
  });

  it("the intake's problems (unknown product, no card on file) are named by the e-mail's lines", async () => {
    const { deps, sent } = fakes(message('Payment: card\nWIDGET-BLUE x 1\n\nLAMP-LED x 2'));
    deps.enterOrder.mockRejectedValueOnce(
      new InvalidOrder([
        { path: 'payment', message: 'the customer has no card on file; bill on account or order by web checkout' },
        { path: 'lines.1.sku', message: 'product LAMP-LED is not sold' },
      ]),
    );
    await receiveOrderEmail(deps, record());
    expect(sent[0]?.email.text).toContain(
      '  line 1: the customer has no card on file; bill on account or order by web checkout\n  line 4: product LAMP-LED is not sold',
    );
  });

  it('the Message-ID used before for another order: says so', async () => {
    const { deps, sent } = fakes();
    deps.enterOrder.mockRejectedValueOnce(new IdempotencyKeyReused());
    expect(await receiveOrderEmail(deps, record())).toMatchObject({ reason: 'message-id-reused' });
    expect(sent[0]?.email.text).toContain(
      'its message id <po-2026-0042@acme-retail.example> was already used for another order',
    );
  });

  it('lists at most 100 problems and counts the rest', async () => {
    const { deps, sent } = fakes(message(Array.from({ length: 130 }, () => 'nonsense').join('\n')));
    await receiveOrderEmail(deps, record());
    const text = sent[0]?.email.text ?? '';
    expect(text).toContain('The problems (130):');
    expect(text).toContain('  line 100: "nonsense"');
    expect(text).not.toContain('line 101:');
    expect(text).toContain('… and 30 more');
  });
});

describe('the InboundEmail handler (SDK clients mocked)', () => {
  const documents = mockClient(DynamoDBDocumentClient);
  mockClient(DynamoDBClient);
  const ses = mockClient(SESv2Client);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    INBOUND_EMAIL_BUCKET_NAME: 'inbox-bucket',
    INBOUND_EMAIL_PREFIX: 'inbound/',
    SENDER_EMAIL: 'invoices@example.com',
    ORDERS_TABLE_NAME: 'Orders',
    PRODUCTS_TABLE_NAME: 'Products',
    CUSTOMERS_TABLE_NAME: 'Customers',
    IDEMPOTENCY_TABLE_NAME: 'Idempotency',
    EVENT_BUS_NAME: 'Bus',
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:orders',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  const load = async () =>
    (await import('../../functions/inbound-email/handler.ts')).handler as unknown as (
      event: SESEvent,
      context: Context,
    ) => Promise<unknown>;

  beforeEach(() => {
    s3Send.mockReset();
    documents.reset();
    ses.reset();
  });

  it('reads the stored message under the prefix, and answers an unknown sender once through SES, from our sender', async () => {
    const handler = await load();
    s3Send.mockImplementation(async (call: { method: string; bucket: string; key: string }) => {
      if (call.method !== 'GET' || call.bucket !== 'inbox-bucket' || call.key !== 'inbound/ses0001')
        throw new Error(`unexpected S3 call ${JSON.stringify(call)}`);
      return new Uint8Array(EXAMPLE);
    });
    documents.on(QueryCommand).resolves({ Items: [] });
    documents.on(PutCommand).resolves({});
    documents.on(UpdateCommand).resolves({});
    ses.on(SendEmailCommand).resolves({ MessageId: 'm1' });

    expect(await handler({ Records: [record()] }, context)).toEqual([
      { outcome: 'refused', reason: 'unknown-sender', problems: 1, replied: true },
    ]);
    const send = ses.commandCalls(SendEmailCommand)[0]?.args[0].input;
    expect(send?.FromEmailAddress).toBe('invoices@example.com');
    expect(send?.Destination?.ToAddresses).toEqual(['orders@acme-retail.example']);
    expect(send?.Content?.Simple?.Headers).toContainEqual({ Name: 'Auto-Submitted', Value: 'auto-replied' });
    // The reply is remembered in the idempotency table, expiring with the e-mail channel's keys (7 days).
    const put = documents.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.TableName).toBe('Idempotency');
    expect(String(put?.Item?.id)).toMatch(/^reply#[0-9a-f]{64}$/);
    const expiresIn = Number(put?.Item?.expiration) - Date.now() / 1000;
    expect(expiresIn).toBeGreaterThan(7 * 24 * 3600 - 60);
    expect(expiresIn).toBeLessThanOrEqual(7 * 24 * 3600);
  });

  it('drops spam before reading anything', async () => {
    const handler = await load();
    await handler({ Records: [record({ spamVerdict: FAIL })] }, context);
    expect(s3Send).not.toHaveBeenCalled();
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
  });
});
