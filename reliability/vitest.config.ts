import { defineConfig } from 'vitest/config';

// Real processes under load on a shared 2-core machine: generous timeouts, and one file at a
// time so two campaigns never compete for the CPU and skew each other's figures.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
