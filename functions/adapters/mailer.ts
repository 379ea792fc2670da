import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import * as z from 'zod/mini';
import { EmailSendDeferred, InvalidEmailAddress } from '../core/errors.ts';
import { lazySchema } from '../core/lazy-schema.ts';
import { ses } from './clients/ses.ts';
import { isNetworkError } from './network-errors.ts';

export interface OutgoingEmail {
  to: string[];
  subject: string;
  text: string;
  html?: string;
  attachments?: { fileName: string; contentType: string; content: Uint8Array }[];
  /** Extra headers, e.g. In-Reply-To and Auto-Submitted on a reply (values without line breaks). */
  headers?: { name: string; value: string }[];
}

const address = /* @__PURE__ */ lazySchema(() => z.email());

/** Sends through SES v2. Addresses are checked first: SES would bounce them later, the local SES not at all. */
export class Mailer {
  constructor(
    private readonly from: string,
    private readonly configurationSet?: string,
  ) {}

  async send(email: OutgoingEmail): Promise<string> {
    // The message names the recipient's position, never the address (it ends up in logs).
    for (const [index, recipient] of [this.from, ...email.to].entries()) {
      if (!address.safeParse(recipient).success)
        throw new InvalidEmailAddress(
          index === 0 ? 'The sender is not a valid e-mail address' : `Recipient ${index} is not a valid e-mail address`,
        );
    }
    let result: { MessageId?: string };
    try {
      result = await ses().send(
        new SendEmailCommand({
          FromEmailAddress: this.from,
          Destination: { ToAddresses: email.to },
          ConfigurationSetName: this.configurationSet,
          Content: {
            Simple: {
              Subject: { Data: email.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: email.text, Charset: 'UTF-8' },
                ...(email.html ? { Html: { Data: email.html, Charset: 'UTF-8' } } : {}),
              },
              ...(email.headers?.length
                ? { Headers: email.headers.map((h) => ({ Name: h.name, Value: h.value })) }
                : {}),
              Attachments: email.attachments?.map((a) => ({
                FileName: a.fileName,
                ContentType: a.contentType,
                RawContent: a.content,
                ContentDisposition: 'ATTACHMENT',
              })),
            },
          },
        }),
      );
    } catch (error) {
      if (isTransient(error))
        throw new EmailSendDeferred('SES did not take the e-mail for now; try again', { cause: error });
      throw error;
    }
    return result.MessageId ?? '';
  }
}

const TRANSIENT_NAMES = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'ThrottlingException',
  'RequestTimeout',
]);

/** Throttling, a service-side fault, or no answer (a network error): worth trying again later. */
function isTransient(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $retryable?: unknown };
  return TRANSIENT_NAMES.has(e.name ?? '') || isNetworkError(error) || e.$fault === 'server' || Boolean(e.$retryable);
}
