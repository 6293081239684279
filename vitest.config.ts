import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The suite waits on timers, simulated lifecycles and child processes far more than it
    // computes (~15% CPU): 4 files side by side, whatever the core count (vitest's default is
    // cores - 1, which on a 2-core machine runs every file in turn).
    maxWorkers: 4,
    // In CI (shared, noisy machines, Chromium and X servers beside the simulator) a failed test
    // runs once more; one that fails twice fails. Locally nothing is retried, so a flake shows.
    retry: process.env.CI ? 1 : 0,
  },
});
