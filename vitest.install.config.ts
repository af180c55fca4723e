import { defineConfig } from "vitest/config";

// `npm run test:install`: installs the packed tarball with the on-device engine (about 300 MB from the npm
// registry or cache) and runs a real pre-check from it. Kept out of `npm test` for its size and time.
export default defineConfig({
  test: {
    include: ["test/install/**/*.install.ts"],
    pool: "forks",
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
  },
});
