import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (from about 30 s to over a minute each on 2 cores), longest first.
 * Vitest orders files by their last durations when it has them (node_modules/.vite) and by size on a
 * clean clone, as in CI, where these small but slow files would start last and run on alone at the end.
 */
const LONGEST = [
  'test/workflow/load.test.ts',
  'test/infra/synth.test.ts',
  'test/workflow/warehouses.test.ts',
  'test/local/order-entries.test.ts',
  'test/workflow/interrupted-orders.test.ts',
  'test/workflow/stock-contention.test.ts',
  'test/workflow/faults.test.ts',
  'test/e2e/npm-start.test.ts',
  'test/local/inbound-email.test.ts',
  'test/local/runbook.test.ts',
];

/** The longest files first, in LONGEST's order; then the others as Vitest orders them. */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const index = LONGEST.findIndex((path) => spec.moduleId.endsWith(path));
      return index < 0 ? LONGEST.length : index;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((spec, position) => ({ spec, position }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.position - b.position)
      .map(({ spec }) => spec);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    // One DynamoDB Local for the run; each runtime and each file's tables have a database of their own in it.
    globalSetup: ['test/support/shared-dynamodb.ts'],
    // Above the waits' default (WAIT_MS in test/support/runtime.ts), so a wait that fails says what it waited for.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Workflow and e2e files each start their own local runtime (their tables in the shared JVM): two at a time fits 2 cores.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
  },
});
