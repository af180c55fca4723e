import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e suites spawn the built server; two cores on CI, so keep parallelism modest.
    maxWorkers: 2,
  },
});
