import { configDefaults, defineConfig } from "vitest/config";

/**
 * Left out of `npm test` (the fast set: ~86 s of CPU with its build, about a minute on 2 cores, see docs/development.md)
 * and run by `npm run test:all`, which CI runs. `npx vitest run <file>` runs any of them directly.
 */
export const SLOW_TESTS = [
  // The on-device pre-check engine: WASM start-up and model runs in every file (~45 s together on 2 cores).
  "test/precheck/analyze.test.ts",
  "test/precheck/decode-limits.test.ts",
  "test/precheck/exit-during-decode.test.ts",
  "test/precheck/faces.test.ts",
  "test/precheck/rotation.test.ts",
  "test/precheck/tool.test.ts",
  // Load and memory over a spawned server, and a timed symlink race.
  "test/e2e/load.test.ts",
  "test/integration/path-race.test.ts",
  // The packed tarball: `npm pack` and an install into an empty folder (~15-18 s), its command run and started as
  // a host; and under npx, a second, cold install from npm's cache (~10 s).
  "test/e2e/package.test.ts",
  "test/e2e/package-npx.test.ts",
  // A real redis-server (installed with apt when missing, on the first run: ~30 s) and 3 replicas sharing it.
  "test/e2e/http-redis.test.ts",
  "test/integration/shared-budget-redis.test.ts",
  // Fresh clones of the committed tree: the Dockerfile replayed (npm ci + build, ~1 min) and `npm pack` from a clone.
  "test/e2e/dockerfile.test.ts",
  "test/e2e/pack-fresh-clone.test.ts",
  // Runs only when `npm run bundle` has built the .mcpb; then it unpacks and starts it.
  "test/e2e/mcpb.test.ts",
  // The verdict view in headless chromium (installed with apt when missing), a screenshot per outcome (~20 s).
  "test/browser/view.test.ts",
];

export default defineConfig({
  test: {
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e suites spawn the built server; two cores on CI, so keep parallelism modest.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "fast",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...SLOW_TESTS],
        },
      },
      { extends: true, test: { name: "slow", include: SLOW_TESTS } },
    ],
  },
});
