import type { BatchIO } from "./batch/batch.js";

/** Exit codes scripts can branch on (precheck: 0 ready, 1 not ready, 3 also when the engine is not installed). */
export const EXIT = { approved: 0, declined: 1, usage: 2, failure: 3 } as const;

/** What a CLI command reads and writes: its streams, its environment and the Ctrl-C signal. */
export interface CliIO extends BatchIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}
