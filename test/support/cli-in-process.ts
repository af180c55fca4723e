import { Readable } from "node:stream";
import type { BatchClock } from "../../src/cli/batch/batch.js";
import { runCommandLine, splitCommand } from "../../src/cli/command-line.js";
import { baseEnv } from "./spawn.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command line in this process through what the binary runs after its process set-up (splitCommand, then
 * runCommandLine), with the env a spawned child gets (baseEnv) and a stdin and stderr that are not terminals.
 * Two spawn smoke tests in test/e2e/cli.test.ts cover the process glue itself (exit code, EPIPE).
 */
export async function runCliInProcess(
  argv: readonly string[],
  options: {
    env?: Record<string, string | undefined>;
    stdin?: string;
    signal?: AbortSignal;
    /** A batch's clock, so a test of a wait need not wait. */
    clock?: BatchClock;
  } = {},
): Promise<CliRun> {
  const { command, rest } = splitCommand(argv);
  if (command === undefined)
    throw new Error(`${JSON.stringify(argv)} names no command: the server would start`);
  let stdout = "";
  let stderr = "";
  const code = await runCommandLine(command, rest, {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    env: baseEnv(options.env),
    signal: options.signal,
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
    stderrIsTTY: false,
    clock: options.clock,
  });
  return { code, stdout, stderr };
}
