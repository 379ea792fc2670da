import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/emulators/dynamodb.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The endpoint of the DynamoDB Local that the test files' runtimes and tables share. */
    sharedDynamoDb: string;
  }
}

/**
 * Vitest's global set-up: one DynamoDB Local for the whole run, without `-sharedDb`, so that each
 * runtime (and each file's tables) keeps a database of its own under its own access key. A JVM per
 * test file cost about 5 CPU-seconds to start and warm up, in each of some thirty files.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamodb = await startDynamoDbLocal({ sharedDb: false });
  project.provide('sharedDynamoDb', dynamodb.endpoint);
  return () => dynamodb.stop();
}
