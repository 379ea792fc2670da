import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { SentEmail } from '../emulators/ses.ts';
import type { ReceivedEmail } from '../inbound-email.ts';

/** `npm start`'s ports (runtime.ts DEFAULT_PORTS), not imported: that would load the CDK app. */
const DEFAULT_PORTS = { api: 3000, ses: 8005 };

/**
 * `npm run order:email -- path/to/message.eml`: e-mails an order to the local order inbox, as a
 * customer's mail server would (the local runtime does what SES does: stores the message in the
 * inbox bucket and invokes the InboundEmail function asynchronously), then prints the reply the
 * sender gets — the acknowledgement with the order id, or every problem. Exit code 0: ordered;
 * 1: not ordered; 2: no reply (dropped: spam, virus, failed authentication, an auto-reply).
 */
const USAGE = `Usage: npm run order:email -- <message.eml> [--new-id] [--to <address>] [--timeout <seconds>]
  --new-id    give the message a fresh Message-ID (the same message again is the same order, answered once)
  --to        envelope recipient (default: the message's To and Cc)
Ports: LOCAL_API_PORT (${DEFAULT_PORTS.api}), LOCAL_SES_PORT (${DEFAULT_PORTS.ses}).`;

const port = (variable: string, fallback: number) => Number(process.env[variable] || fallback);

/** The message with its Message-ID replaced (or added). */
function withNewMessageId(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const id = `<${randomUUID()}@order-email.local>`;
  const replaced = /^message-id:/im.test(head)
    ? head.replace(/^message-id:[^\r\n]*(\r?\n[ \t][^\r\n]*)*/im, `Message-ID: ${id}`)
    : `Message-ID: ${id}\r\n${head}`;
  return Buffer.from(replaced + text.slice(head.length), 'latin1');
}

const isReplyTo = (email: SentEmail, received: ReceivedEmail) =>
  received.messageId
    ? (email.headers ?? []).some((h) => h.name.toLowerCase() === 'in-reply-to' && h.value === received.messageId)
    : email.destination.to.some((to) => to.toLowerCase() === received.from?.toLowerCase());

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'new-id': { type: 'boolean', default: false },
      to: { type: 'string' },
      timeout: { type: 'string', default: '60' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const file = positionals[0];
  if (values.help || !file) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  let raw: Buffer = readFileSync(file);
  if (values['new-id']) raw = withNewMessageId(raw);
  const api = `http://127.0.0.1:${port('LOCAL_API_PORT', DEFAULT_PORTS.api)}`;
  const ses = `http://127.0.0.1:${port('LOCAL_SES_PORT', DEFAULT_PORTS.ses)}`;

  const startedAt = Date.now() / 1000;
  const url = new URL('/local/inbound-email', api);
  if (values.to) url.searchParams.set('to', values.to);
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: raw });
  const answer = (await response.json()) as ReceivedEmail & { message?: string };
  if (response.status !== 202) {
    console.error(`The order inbox refused the message (${response.status}): ${answer.message ?? ''}`);
    return 2;
  }
  console.log(
    `Received: SES message ${answer.sesMessageId}, stored at s3://${answer.stored[0]?.bucket}/${answer.stored[0]?.key}`,
  );

  // The reply to this delivery; a message received before was answered then (once), so after a
  // short wait an earlier reply to the same Message-ID is the answer.
  const deadline = Date.now() + Number(values.timeout) * 1000;
  let reply: SentEmail | undefined;
  while (!reply && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const store = (await (await fetch(`${ses}/store`)).json()) as { emails?: SentEmail[] };
    const mail = (store.emails ?? []).filter((e) => isReplyTo(e, answer));
    reply = mail.find((e) => e.at >= Math.floor(startedAt));
    if (!reply && answer.messageId && Date.now() / 1000 - startedAt > 5 && mail.length > 0) {
      reply = mail.at(-1);
      console.log(
        '(This Message-ID was received before: the reply then is the answer. --new-id sends it as a new message.)',
      );
    }
  }
  if (!reply) {
    console.error(
      `No reply within ${values.timeout} s: the message was dropped (spam or virus verdict, failed SPF and DKIM, an auto-reply or a bounce) or is still being retried; see the runtime's log.`,
    );
    return 2;
  }
  console.log(`\nReply to ${reply.destination.to.join(', ')}: ${reply.subject}\n\n${reply.body.text ?? ''}`);
  return /^Order ord-[0-9a-z]{26} received/.test(reply.subject) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`order:email failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
