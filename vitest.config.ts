import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores: one worker process per core, each test file in a fresh fork
    // (the addon and OpenBLAS's thread pool are process-wide).
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    setupFiles: ['test/helpers/yield_to_event_loop.ts'],
  },
});
