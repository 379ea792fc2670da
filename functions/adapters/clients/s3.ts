import { S3Client } from '@aws-sdk/client-s3';

/** The S3 client, created on first use (see dynamodb.ts). */
let client: S3Client | undefined;

export function s3(): S3Client {
  // Path-style always: AWS serves it too, and a custom endpoint on 127.0.0.1 has no bucket sub-domains.
  client ??= new S3Client({ forcePathStyle: true });
  return client;
}
