import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/*
 * One module per AWS service, each client created on first use: a function's bundle
 * holds only the clients its code reaches, and INIT builds none. Endpoints come from the SDK's
 * standard `AWS_ENDPOINT_URL_<SERVICE>` variables: the same code talks to AWS or to the local
 * emulators. Plain function declarations, so a bundler drops the ones a function never calls.
 */
let client: DynamoDBClient | undefined;
let documentClient: DynamoDBDocumentClient | undefined;

export function dynamo(): DynamoDBClient {
  client ??= new DynamoDBClient({});
  return client;
}

export function documents(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(dynamo(), { marshallOptions: { removeUndefinedValues: true } });
  return documentClient;
}
