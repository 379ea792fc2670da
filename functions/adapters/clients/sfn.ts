import { SFNClient } from '@aws-sdk/client-sfn';
import { traced } from '../../lib/powertools.ts';

/** The Step Functions client, traced and created on first use (see dynamodb.ts). */
let client: SFNClient | undefined;

export function sfn(): SFNClient {
  client ??= traced(new SFNClient({}));
  return client;
}
