import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Workflow and e2e files each start their own local runtime (a JVM among them): two at a time fits 2 cores.
    maxWorkers: 2,
  },
});
