import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '../lib/powertools.ts';

/**
 * One traced client per service, created lazily so a function only builds the clients it uses.
 * Endpoints come from the SDK's standard `AWS_ENDPOINT_URL_<SERVICE>` variables: the same code
 * talks to AWS or to the local emulators.
 */
function lazy<T>(create: () => T): () => T {
  let instance: T | undefined;
  return () => {
    instance ??= create();
    return instance;
  };
}

export const dynamo = lazy(() => tracer.captureAWSv3Client(new DynamoDBClient({})));
export const documents = lazy(() =>
  DynamoDBDocumentClient.from(dynamo(), { marshallOptions: { removeUndefinedValues: true } }),
);
export const sfn = lazy(() => tracer.captureAWSv3Client(new SFNClient({})));
export const ses = lazy(() => tracer.captureAWSv3Client(new SESv2Client({})));
// Path-style always: AWS serves it too, and a custom endpoint on 127.0.0.1 has no bucket sub-domains.
export const s3 = lazy(() => tracer.captureAWSv3Client(new S3Client({ forcePathStyle: true })));
export const eventBridge = lazy(() => tracer.captureAWSv3Client(new EventBridgeClient({})));
