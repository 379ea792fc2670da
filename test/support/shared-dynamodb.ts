import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/emulators/dynamodb.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The DynamoDB Local that the test files' runtimes and tables share: its endpoint, or why it did not start. */
    sharedDynamoDb: { endpoint: string } | { error: string };
  }
}

/**
 * Vitest's global set-up: one DynamoDB Local for the whole run, without `-sharedDb`, so that each
 * runtime (and each file's tables) keeps a database of its own under its own access key. A JVM per
 * test file cost about 5 CPU-seconds to start and warm up, in each of some thirty files. When it
 * cannot start (no Java), the files that need it fail with the reason; the others still run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const dynamodb = await startDynamoDbLocal({ sharedDb: false });
    project.provide('sharedDynamoDb', { endpoint: dynamodb.endpoint });
    return () => dynamodb.stop();
  } catch (error) {
    project.provide('sharedDynamoDb', { error: error instanceof Error ? error.message : String(error) });
    return async () => {};
  }
}
