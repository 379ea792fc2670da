import { SESv2Client } from '@aws-sdk/client-sesv2';

/** The SES v2 client, created on first use (see dynamodb.ts). */
let client: SESv2Client | undefined;

export function ses(): SESv2Client {
  client ??= new SESv2Client({});
  return client;
}
