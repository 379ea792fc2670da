import { SFNClient } from '@aws-sdk/client-sfn';

/** The Step Functions client, created on first use (see dynamodb.ts). */
let client: SFNClient | undefined;

export function sfn(): SFNClient {
  client ??= new SFNClient({});
  return client;
}
