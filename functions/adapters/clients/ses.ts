import { SESv2Client } from '@aws-sdk/client-sesv2';
import { traced } from '../../lib/powertools.ts';

/** The SES v2 client, traced and created on first use (see dynamodb.ts). */
let client: SESv2Client | undefined;

export function ses(): SESv2Client {
  client ??= traced(new SESv2Client({}));
  return client;
}
