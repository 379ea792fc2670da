import type { SESEvent } from 'aws-lambda';
import { DocumentStore } from '../adapters/document-store.ts';
import { Mailer } from '../adapters/mailer.ts';
import { ReplyLedger } from '../adapters/reply-ledger.ts';
import { optionalEnv, requireEnv } from '../lib/config.ts';
import { clock, customersRepository } from '../lib/deps.ts';
import { type InboundEmailDeps, receiveOrderEmail } from '../lib/inbound-email.ts';
import { enterOrder } from '../lib/order-entry.ts';
import { observedHandler, orderScope } from '../lib/powertools.ts';

const messages = new DocumentStore(requireEnv('INBOUND_EMAIL_BUCKET_NAME'));
const prefix = optionalEnv('INBOUND_EMAIL_PREFIX', '');
const customers = customersRepository();
const senderEmail = requireEnv('SENDER_EMAIL');
const mailer = new Mailer(senderEmail, process.env.SES_CONFIGURATION_SET || undefined);
const replies = new ReplyLedger(requireEnv('IDEMPOTENCY_TABLE_NAME'));
/** Mail servers retry a delivery for up to 5 days: a redelivery within a week is not answered twice. */
const REPLY_RETENTION_SECONDS = 7 * 24 * 60 * 60;

const deps: InboundEmailDeps = {
  readMessage: (sesMessageId) => messages.get(`${prefix}${sesMessageId}`),
  findCustomerByEmail: (address) => customers.findByEmail(address),
  enterOrder,
  replyOnce: (email, digest) => {
    const now = clock();
    const expiresAt = new Date(now.getTime() + REPLY_RETENTION_SECONDS * 1000);
    return replies.sendOnce(digest, now, expiresAt, () => mailer.send(email));
  },
  senderEmail,
};

/**
 * The order inbox (SES receipt rule: S3, then this function, invoked asynchronously): one record per
 * received e-mail. See lib/inbound-email.ts; a thrown error makes Lambda retry the event (twice, then
 * it goes to the inbox's failed queue).
 */
export const handler = observedHandler(async (event: SESEvent) => {
  const outcomes = [];
  // Each e-mail's lines name the order it captured, never the one before it.
  for (const record of event.Records) outcomes.push(await orderScope(() => receiveOrderEmail(deps, record)));
  return outcomes;
});
