import { SFNClient } from '@aws-sdk/client-sfn';
import { tracer } from '../../lib/powertools.ts';

/** The Step Functions client, traced and created on first use (see dynamodb.ts). */
let client: SFNClient | undefined;

export function sfn(): SFNClient {
  client ??= tracer.captureAWSv3Client(new SFNClient({}));
  return client;
}
