import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing; `engine` drives a private dockerd (started once by
// test/support/global-setup.ts) through dockgate with the real clients.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // A few unit tests compile wasm instances or the config schema (ajv) on first use: well
          // under a second alone, several seconds on a loaded 2-core CI machine.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'engine',
          include: ['test/engine/**/*.test.ts', 'test/security/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          // One private daemon on 2 cores: files run one at a time, tests inside a file in order.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
