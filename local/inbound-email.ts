import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2, SESEvent, SESMail, SESReceipt, SESReceiptStatus } from 'aws-lambda';
import PostalMime, { type Email } from 'postal-mime';
import type { HttpApiRoute } from './http-api.ts';
import type { LocalReceiptRule } from './template.ts';

/**
 * SES mail receiving, locally: what SES does with a message sent to a verified domain — match the
 * active rule set's receipt rules, then run each matching rule's actions in order (store the message
 * in S3, invoke the Lambda function with the SES event). The rules come from the template, so the
 * local inbox is the deployed one. `POST /local/inbound-email` (raw RFC 5322 message as the body) is
 * how `npm run order:email` and the tests hand it a message; it exists only in the local runtime.
 */

export const LOCAL_INBOUND_EMAIL_ROUTE = 'POST /local/inbound-email';

export interface ReceivingServices {
  putObject(bucket: string, key: string, body: Uint8Array): Promise<void>;
  /** `Event`: Lambda's asynchronous invocation (retried on error), not awaited; `RequestResponse`: awaited. */
  invoke(functionArn: string, event: SESEvent, invocationType: 'Event' | 'RequestResponse'): Promise<void>;
}

export interface Envelope {
  /** MAIL FROM; default: the Return-Path header, else the From address. */
  from?: string;
  /** RCPT TO; default: the To and Cc addresses. */
  to?: string[];
}

export interface ReceivedEmail {
  /** SES's id for this delivery (the S3 object's name under the rule's prefix). */
  sesMessageId: string;
  /** The message's own Message-ID header, if it has one. */
  messageId?: string;
  from?: string;
  rules: string[];
  stored: { bucket: string; key: string }[];
  verdicts: Pick<SESReceipt, 'spamVerdict' | 'virusVerdict' | 'spfVerdict' | 'dkimVerdict' | 'dmarcVerdict'>;
}

/** SES's recipient conditions: an address, a domain (`example.com`) or its subdomains (`.example.com`). */
export function ruleMatches(rule: Pick<LocalReceiptRule, 'recipients'>, address: string): boolean {
  if (rule.recipients.length === 0) return true;
  const recipient = address.trim().toLowerCase();
  const domain = recipient.slice(recipient.lastIndexOf('@') + 1);
  return rule.recipients.some((condition) => {
    const c = condition.trim().toLowerCase();
    if (c.includes('@')) return c === recipient;
    if (c.startsWith('.')) return domain.endsWith(c);
    return domain === c;
  });
}

const status = (value: SESReceiptStatus['status']): SESReceiptStatus => ({ status: value });

/** Authentication-Results methods (RFC 8601) as SES's verdicts. */
function resultStatus(result: string | undefined): SESReceiptStatus['status'] {
  switch (result?.toLowerCase()) {
    case undefined:
    case 'pass':
      return 'PASS';
    case 'fail':
    case 'hardfail':
      return 'FAIL';
    case 'temperror':
    case 'permerror':
      return 'PROCESSING_FAILED';
    default:
      return 'GRAY';
  }
}

/**
 * The verdicts SES would give, as far as the message tells: its Authentication-Results (spf, dkim,
 * dmarc with its `p=` policy) and X-SES-Spam-Verdict / X-SES-Virus-Verdict headers (which SES itself
 * adds to stored messages); PASS where it says nothing.
 */
export function verdictsOf(
  email: Pick<Email, 'headers'>,
  scanEnabled = true,
): ReceivedEmail['verdicts'] & Pick<SESReceipt, 'dmarcPolicy'> {
  const results = email.headers
    .filter((h) => h.key === 'authentication-results')
    .map((h) => h.value)
    .join(';');
  const method = (name: string) => new RegExp(`\\b${name}=([a-z]+)`, 'i').exec(results)?.[1];
  const policy = /\bdmarc=fail\b[^;]*?\bp=(none|quarantine|reject)\b/i.exec(results)?.[1]?.toLowerCase();
  const header = (key: string) =>
    email.headers
      .find((h) => h.key === key)
      ?.value.trim()
      .toUpperCase();
  const scan = (key: string) =>
    scanEnabled
      ? status(header(key) === 'FAIL' ? 'FAIL' : header(key) === 'GRAY' ? 'GRAY' : 'PASS')
      : status('DISABLED');
  const dmarc = resultStatus(method('dmarc'));
  return {
    spamVerdict: scan('x-ses-spam-verdict'),
    virusVerdict: scan('x-ses-virus-verdict'),
    spfVerdict: status(resultStatus(method('spf'))),
    dkimVerdict: status(resultStatus(method('dkim'))),
    dmarcVerdict: status(dmarc),
    ...(dmarc === 'FAIL' && policy ? { dmarcPolicy: policy as SESReceipt['dmarcPolicy'] } : {}),
  };
}

const addresses = (list: Email['to']) =>
  (list ?? []).flatMap((a) => (a.group ? a.group.map((m) => m.address) : [a.address])).filter(Boolean) as string[];
const headerValues = (email: Email, key: string) => email.headers.filter((h) => h.key === key).map((h) => h.value);

/** SES's message ids: 40 lower-case letters and digits here. */
const sesMessageId = () => randomBytes(20).toString('hex');

/**
 * Receives one message: runs the matching rules' actions in order, as SES does. Throws
 * `NoReceiptRule` when no rule accepts any recipient (SES rejects such mail in the SMTP dialogue).
 */
export async function receiveEmail(
  raw: Uint8Array,
  rules: readonly LocalReceiptRule[],
  services: ReceivingServices,
  envelope: Envelope = {},
  now: Date = new Date(),
): Promise<ReceivedEmail> {
  const email = await PostalMime.parse(raw);
  const from = email.from?.address;
  const recipients = envelope.to ?? [...addresses(email.to), ...addresses(email.cc)];
  const source = envelope.from ?? email.returnPath ?? from ?? '';
  const id = sesMessageId();
  const matched = rules
    .map((rule) => ({ rule, recipients: recipients.filter((r) => ruleMatches(rule, r)) }))
    .filter((m) => m.recipients.length > 0);
  if (matched.length === 0) {
    throw Object.assign(new Error(`No receipt rule accepts mail for ${recipients.join(', ') || 'no recipient'}`), {
      name: 'NoReceiptRule',
    });
  }
  const mail: SESMail = {
    timestamp: now.toISOString(),
    source,
    messageId: id,
    destination: recipients,
    headersTruncated: false,
    headers: email.headers.map((h) => ({ name: h.originalKey, value: h.value })),
    commonHeaders: {
      returnPath: email.returnPath ?? source,
      ...(headerValues(email, 'from').length ? { from: headerValues(email, 'from') } : {}),
      date: headerValues(email, 'date')[0] ?? now.toUTCString(),
      ...(headerValues(email, 'to').length ? { to: headerValues(email, 'to') } : {}),
      ...(headerValues(email, 'cc').length ? { cc: headerValues(email, 'cc') } : {}),
      messageId: email.messageId ?? '',
      ...(email.subject !== undefined ? { subject: email.subject } : {}),
    },
  };
  const received: ReceivedEmail = {
    sesMessageId: id,
    ...(email.messageId ? { messageId: email.messageId } : {}),
    ...(from ? { from } : {}),
    rules: [],
    stored: [],
    verdicts: verdictsOf(email),
  };
  for (const { rule, recipients: ruleRecipients } of matched) {
    received.rules.push(rule.name);
    const verdicts = verdictsOf(email, rule.scanEnabled);
    for (const action of rule.actions) {
      if (action.type === 'S3') {
        const key = `${action.objectKeyPrefix}${id}`;
        await services.putObject(action.bucketName, key, raw);
        received.stored.push({ bucket: action.bucketName, key });
      } else {
        const event: SESEvent = {
          Records: [
            {
              eventSource: 'aws:ses',
              eventVersion: '1.0',
              ses: {
                mail,
                receipt: {
                  timestamp: now.toISOString(),
                  processingTimeMillis: 1,
                  recipients: ruleRecipients,
                  ...verdicts,
                  action: { type: 'Lambda', functionArn: action.functionArn, invocationType: action.invocationType },
                },
              },
            },
          ],
        };
        await services.invoke(action.functionArn, event, action.invocationType);
      }
    }
  }
  return received;
}

/** `POST /local/inbound-email?from=…&to=…` with the raw message: 202 with what SES did, 550-like 422 otherwise. */
export function inboundEmailRoute(rules: readonly LocalReceiptRule[], services: ReceivingServices): HttpApiRoute {
  const answer = (statusCode: number, body: unknown) => ({
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    routeKey: LOCAL_INBOUND_EMAIL_ROUTE,
    invoke: async (event: APIGatewayProxyEventV2) => {
      const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
      if (raw.length === 0) return answer(400, { error: 'EmptyMessage', message: 'Send the raw message as the body' });
      const query = event.queryStringParameters ?? {};
      const envelope: Envelope = {
        ...(query.from ? { from: query.from } : {}),
        ...(query.to ? { to: query.to.split(',').map((a) => a.trim()) } : {}),
      };
      try {
        return answer(202, await receiveEmail(raw, rules, services, envelope));
      } catch (error) {
        if ((error as Error).name === 'NoReceiptRule')
          return answer(422, { error: 'NoReceiptRule', message: (error as Error).message });
        throw error;
      }
    },
  };
}
