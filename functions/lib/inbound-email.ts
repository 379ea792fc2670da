import { createHash } from 'node:crypto';
import { IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import type { Context, SESEventRecord, SESReceipt } from 'aws-lambda';
import PostalMime, { type Email } from 'postal-mime';
import { z } from 'zod';
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
import { InvalidOrder } from '../core/errors.ts';
import type { Customer, OrderEntry, Principal } from '../core/schemas.ts';
import type { IntakeResult } from './intake.ts';
import { logger } from './powertools.ts';

/** What receiving an order e-mail needs: the stored message, the customers, the intake and a mailer. */
export interface InboundEmailDeps {
  /** The raw message the receipt rule's S3 action stored, by SES message id. */
  readMessage(sesMessageId: string): Promise<Uint8Array>;
  findCustomerByEmail(address: string): Promise<Customer | undefined>;
  enterOrder(
    command: { channel: 'email'; idempotencyKey: string; entry: OrderEntry; placedBy: Principal },
    context: Context,
  ): Promise<IntakeResult>;
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

/**
 * Why SES's verdicts say not to touch a message, if they do: spam, a virus, or a sender that is
 * probably forged (SPF and DKIM both failed, or DMARC failed under a quarantine/reject policy). Such
 * mail is dropped without a reply, so that a forged sender gets no backscatter.
 */
export function verdictDropReason(
  receipt: Pick<
    SESReceipt,
    'spamVerdict' | 'virusVerdict' | 'spfVerdict' | 'dkimVerdict' | 'dmarcVerdict' | 'dmarcPolicy'
  >,
): string | undefined {
  if (receipt.virusVerdict?.status === 'FAIL') return 'virus';
  if (receipt.spamVerdict?.status === 'FAIL') return 'spam';
  if (receipt.spfVerdict?.status === 'FAIL' && receipt.dkimVerdict?.status === 'FAIL') return 'spf-and-dkim-failed';
  if (
    receipt.dmarcVerdict?.status === 'FAIL' &&
    (receipt.dmarcPolicy === 'reject' || receipt.dmarcPolicy === 'quarantine')
  )
    return 'dmarc-failed';
  return undefined;
}

const emailAddress = z.email();
const MESSAGE_ID = /^<[^<>\s]{1,900}>$/;
const header = (email: Email, key: string) => email.headers.find((h) => h.key === key)?.value.trim();

/**
 * One e-mail to the order inbox (an SES receipt record): the sender's customer, the order read from
 * the body and CSV attachments (core/email-order.ts), captured by the one intake under the e-mail's
 * Message-ID; the sender gets the acknowledgement or every problem, once. Transient failures and a
 * capture of the same message still in progress are thrown, so that Lambda retries the event.
 */
export async function receiveOrderEmail(
  deps: InboundEmailDeps,
  record: SESEventRecord,
  context: Context,
): Promise<InboundOutcome> {
  const { mail, receipt } = record.ses;
  const dropped = (reason: string): InboundOutcome => {
    logger.warn('Inbound e-mail dropped', { sesMessageId: mail.messageId, reason });
    return { outcome: 'dropped', reason };
  };
  const verdict = verdictDropReason(receipt);
  if (verdict) return dropped(verdict);

  const email = await PostalMime.parse(await deps.readMessage(mail.messageId), { attachmentEncoding: 'arraybuffer' });
  // Never answer an auto-reply or a bounce (RFC 3834): two auto-responders would mail each other forever.
  if (/^auto-replied/i.test(header(email, 'auto-submitted') ?? '')) return dropped('auto-reply');
  if (/^(<>)?$|^mailer-daemon@/i.test(mail.source.trim())) return dropped('bounce');
  const from = email.from?.address?.trim();
  if (!from || !emailAddress.safeParse(from).success) return dropped('no-sender-address');
  if (from.toLowerCase() === deps.senderEmail.toLowerCase()) return dropped('own-reply');

  const rawMessageId = email.messageId?.trim();
  const messageId = rawMessageId && MESSAGE_ID.test(rawMessageId) ? rawMessageId : undefined;
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
      .update([messageId ?? mail.messageId, from.toLowerCase(), text.subject, text.text].join('\0'))
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

  // The key: the e-mail's Message-ID (a mail server re-sending it sends the same one), else SES's id
  // for this delivery. Per customer, so that one sender's id can never block another's order.
  const key = `${customer.customerId}:${(messageId ?? mail.messageId).replace(/^<|>$/g, '')}`;
  let orderId: string;
  try {
    ({ orderId } = await deps.enterOrder(
      { channel: 'email', idempotencyKey: key, entry: read.entry, placedBy: EMAIL_PRINCIPAL },
      context,
    ));
  } catch (error) {
    if (error instanceof InvalidOrder) return problemsReply(locateProblems(error.problems, read.sources));
    if (error instanceof IdempotencyValidationError)
      return refused('message-id-reused', emailOrderKeyReused(ref, messageId ?? mail.messageId));
    throw error; // IdempotencyAlreadyInProgressError too: the retry finds the order
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
