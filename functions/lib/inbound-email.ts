import { createHash } from 'node:crypto';
import type { SESEventRecord, SESReceipt } from 'aws-lambda';
import PostalMime, { addressParser, type Email } from 'postal-mime';
import * as z from 'zod/mini';
import type { OutgoingEmail } from '../adapters/mailer.ts';
import { type EmailProblem, isOrderCsv, locateProblems, parseEmailOrder } from '../core/email-order.ts';
import {
  type EmailText,
  emailOrderKeyReused,
  emailOrderReceived,
  emailOrderRefused,
  emailOrderUnknownSender,
  type InboundEmailRef,
} from '../core/emails.ts';
import { IdempotencyKeyReused, InvalidOrder } from '../core/errors.ts';
import { lazySchema } from '../core/lazy-schema.ts';
import type { Customer, OrderEntry, Principal } from '../core/schemas.ts';
import type { IntakeResult } from './intake.ts';
import { logger } from './powertools.ts';

/** What receiving an order e-mail needs: the stored message, the customers, the intake and a mailer. */
export interface InboundEmailDeps {
  /** The raw message the receipt rule's S3 action stored, by SES message id. */
  readMessage(sesMessageId: string): Promise<Uint8Array>;
  findCustomerByEmail(address: string): Promise<Customer | undefined>;
  enterOrder(command: {
    channel: 'email';
    idempotencyKey: string;
    entry: OrderEntry;
    placedBy: Principal;
  }): Promise<IntakeResult>;
  /** Sends the reply unless the same reply (`digest`) went out before; true if it was sent now. */
  replyOnce(email: OutgoingEmail, digest: string): Promise<boolean>;
  /** Our own sender: mail from it is one of our replies come back, never answered (no mail loop). */
  senderEmail: string;
}

export type InboundOutcome =
  | { outcome: 'dropped'; reason: string }
  | { outcome: 'ordered'; orderId: string; replied: boolean }
  | {
      outcome: 'refused';
      reason: 'unknown-sender' | 'invalid' | 'message-id-reused';
      problems: number;
      replied: boolean;
    };

/** Who captures e-mail orders: the order inbox, one principal for every sender. */
export const EMAIL_PRINCIPAL: Principal = { kind: 'client', id: 'email' };

type Verdicts = Pick<
  SESReceipt,
  'spamVerdict' | 'virusVerdict' | 'spfVerdict' | 'dkimVerdict' | 'dmarcVerdict' | 'dmarcPolicy'
>;

/**
 * Why SES's verdicts alone say not to touch a message, if they do: spam, a virus, a DMARC failure,
 * or nothing that could vouch for any sender domain (neither DMARC nor SPF passed). Such mail is
 * dropped unread and without a reply, so that a forged sender gets no backscatter.
 */
export function verdictDropReason(receipt: Verdicts): string | undefined {
  if (receipt.virusVerdict?.status === 'FAIL') return 'virus';
  if (receipt.spamVerdict?.status === 'FAIL') return 'spam';
  if (receipt.dmarcVerdict?.status === 'FAIL') return 'dmarc-failed';
  if (receipt.dmarcVerdict?.status !== 'PASS' && receipt.spfVerdict?.status !== 'PASS')
    return 'sender-not-authenticated';
  return undefined;
}

const domainOf = (address: string) => {
  const bare = address.trim().replace(/^<|>$/g, '');
  return bare
    .slice(bare.lastIndexOf('@') + 1)
    .replace(/\.$/, '')
    .toLowerCase();
};

/**
 * Whether the From address's domain is authenticated, since the From address is what finds the
 * customer: DMARC passed (SES checked SPF or DKIM aligned with the From domain), or SPF passed for an
 * envelope sender (MAIL FROM, `mail.source`) of exactly the From domain, for a domain without DMARC.
 * SPF or DKIM passing for another domain says nothing about the From address: anyone can have a
 * domain of their own. Otherwise the reason to drop the message (without a reply).
 */
export function senderDropReason(receipt: Verdicts, envelopeSender: string, from: string): string | undefined {
  if (receipt.dmarcVerdict?.status === 'PASS') return undefined;
  const fromDomain = domainOf(from);
  if (receipt.spfVerdict?.status === 'PASS' && fromDomain !== '' && domainOf(envelopeSender) === fromDomain)
    return undefined;
  return receipt.spfVerdict?.status === 'PASS' ? 'spf-not-aligned' : 'sender-not-authenticated';
}

const FINGERPRINT_HEADERS = ['from', 'sender', 'to', 'cc', 'date', 'subject', 'content-type'] as const;

/**
 * An e-mail without a Message-ID, recognised when it comes again: a hash of what its sender wrote
 * (the originator headers and the body, as sent), not of the whole stored message, to which every
 * relay and SES itself prepend trace headers (Received, Authentication-Results, X-SES-*) that differ
 * from one delivery to the next. The Date keeps two identical orders sent at different times apart.
 */
export function messageFingerprint(raw: Uint8Array, headers: Email['headers']): string {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const ends = [bytes.indexOf('\r\n\r\n'), bytes.indexOf('\n\n')].filter((i) => i >= 0);
  const headerEnd = ends.length ? Math.min(...ends) : bytes.length;
  const body = bytes.subarray(Math.min(bytes.length, headerEnd + (bytes[headerEnd] === 0x0d ? 4 : 2)));
  const hash = createHash('sha256');
  for (const key of FINGERPRINT_HEADERS) {
    for (const h of headers.filter((h) => h.key === key))
      hash.update(`${key}:${h.value.replace(/\s+/g, ' ').trim()}\0`);
  }
  return `sha256:${hash.update('\0').update(body).digest('hex')}`;
}

const emailAddress = /* @__PURE__ */ lazySchema(() => z.email());
const MESSAGE_ID = /^<[^<>\s]{1,900}>$/;
const header = (email: Email, key: string) => email.headers.find((h) => h.key === key)?.value.trim();

/**
 * One e-mail to the order inbox (an SES receipt record): the sender's customer, the order read from
 * the body and CSV attachments (core/email-order.ts), captured by the one intake under the e-mail's
 * Message-ID; the sender gets the acknowledgement or every problem, once. Transient failures are
 * thrown, so that Lambda retries the event.
 */
export async function receiveOrderEmail(deps: InboundEmailDeps, record: SESEventRecord): Promise<InboundOutcome> {
  const { mail, receipt } = record.ses;
  const dropped = (reason: string): InboundOutcome => {
    // The verdicts, never an address: enough to tell a forgery from a customer whose domain lacks DMARC.
    const verdicts = {
      spf: receipt.spfVerdict?.status,
      dkim: receipt.dkimVerdict?.status,
      dmarc: receipt.dmarcVerdict?.status,
    };
    logger.warn('Inbound e-mail dropped', { sesMessageId: mail.messageId, reason, verdicts });
    return { outcome: 'dropped', reason };
  };
  const verdict = verdictDropReason(receipt);
  if (verdict) return dropped(verdict);

  const raw = await deps.readMessage(mail.messageId);
  const email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
  // Never answer an auto-reply or a bounce (RFC 3834): two auto-responders would mail each other forever.
  if (/^auto-replied/i.test(header(email, 'auto-submitted') ?? '')) return dropped('auto-reply');
  if (/^(<>)?$|^mailer-daemon@/i.test(mail.source.trim())) return dropped('bounce');
  // One From header with one address: the address SES authenticated is the one that finds the customer.
  const fromHeaders = email.headers.filter((h) => h.key === 'from');
  if (fromHeaders.length > 1 || (fromHeaders[0] && addressParser(fromHeaders[0].value).length > 1))
    return dropped('ambiguous-sender');
  const from = email.from?.address?.trim();
  if (!from || !emailAddress.safeParse(from).success) return dropped('no-sender-address');
  if (from.toLowerCase() === deps.senderEmail.toLowerCase()) return dropped('own-reply');
  const unauthenticated = senderDropReason(receipt, mail.source, from);
  if (unauthenticated) return dropped(unauthenticated);

  const rawMessageId = email.messageId?.trim();
  const messageId = rawMessageId && MESSAGE_ID.test(rawMessageId) ? rawMessageId : undefined;
  // What the message is known by: its Message-ID (a mail server re-sending it sends the same one),
  // else what its sender wrote (SES's id differs per delivery, so a re-sent copy would order twice).
  const messageKey = messageId?.replace(/^<|>$/g, '') ?? messageFingerprint(raw, email.headers);
  const ref: InboundEmailRef = {
    ...(email.subject ? { subject: email.subject } : {}),
    ...(email.date && !Number.isNaN(Date.parse(email.date)) ? { date: email.date } : {}),
  };
  const reply = async (text: EmailText) => {
    const headers = [
      { name: 'Auto-Submitted', value: 'auto-replied' },
      ...(messageId
        ? [
            { name: 'In-Reply-To', value: messageId },
            { name: 'References', value: messageId },
          ]
        : []),
    ];
    const digest = createHash('sha256')
      .update([messageId ?? messageKey, from.toLowerCase(), text.subject, text.text].join('\0'))
      .digest('hex');
    return deps.replyOnce({ to: [from], ...text, headers }, digest);
  };
  const refused = async (reason: 'unknown-sender' | 'invalid' | 'message-id-reused', text: EmailText, problems = 1) => {
    const replied = await reply(text);
    logger.info('Inbound e-mail refused', { sesMessageId: mail.messageId, reason, problems, replied });
    return { outcome: 'refused', reason, problems, replied } as const;
  };
  const problemsReply = (problems: EmailProblem[]) =>
    refused('invalid', emailOrderRefused(ref, problems), problems.length);

  const customer = await deps.findCustomerByEmail(from);
  if (!customer) return refused('unknown-sender', emailOrderUnknownSender(ref));

  const decoder = new TextDecoder('utf-8');
  const read = parseEmailOrder({
    customerId: customer.customerId,
    ...(email.text !== undefined ? { text: email.text } : {}),
    attachments: email.attachments.filter(isOrderCsv).map((a) => ({
      filename: a.filename,
      mimeType: a.mimeType,
      content: typeof a.content === 'string' ? a.content : decoder.decode(a.content),
    })),
  });
  if (!read.ok) return problemsReply(read.problems);

  // Per customer, so that one sender's id can never block another's order.
  const key = `${customer.customerId}:${messageKey}`;
  let orderId: string;
  try {
    ({ orderId } = await deps.enterOrder({
      channel: 'email',
      idempotencyKey: key,
      entry: read.entry,
      placedBy: EMAIL_PRINCIPAL,
    }));
  } catch (error) {
    if (error instanceof InvalidOrder) return problemsReply(locateProblems(error.problems, read.sources));
    if (error instanceof IdempotencyKeyReused)
      return refused('message-id-reused', emailOrderKeyReused(ref, messageId ?? messageKey));
    throw error;
  }
  const replied = await reply(
    emailOrderReceived(ref, {
      orderId,
      customerName: customer.name,
      entry: read.entry,
      currency: read.entry.currency ?? customer.currency,
    }),
  );
  logger.info('Inbound e-mail ordered', { sesMessageId: mail.messageId, orderId, replied });
  return { outcome: 'ordered', orderId, replied };
}
