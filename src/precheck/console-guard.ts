import { format } from "node:util";

type ConsoleMethod = "log" | "info" | "debug" | "trace";
const REDIRECTED: readonly ConsoleMethod[] = ["log", "info", "debug", "trace"];

/**
 * One stable replacement per method: the WASM runtimes capture `console.log` when they initialise, so whatever
 * they captured while guarded keeps writing to stderr after the guard is lifted.
 */
const toStderr = (...args: unknown[]): void => {
  process.stderr.write(`[precheck engine] ${format(...args)}\n`);
};

type ConsoleFn = (...args: unknown[]) => void;
// Patched through this alias: redirecting console.log away from stdout is the point of this module.
const patched: Record<ConsoleMethod, ConsoleFn> = console;

let depth = 0;
let saved: Partial<Record<ConsoleMethod, ConsoleFn>> = {};

/**
 * Runs `work` with console.log/info/debug/trace sent to stderr: the engine (Human, the TF.js and ONNX WASM
 * runtimes) logs with console.log, and stdout belongs to JSON-RPC. Nested and overlapping calls share one patch.
 */
export async function withConsoleOnStderr<T>(work: () => Promise<T>): Promise<T> {
  if (depth === 0) {
    saved = {};
    for (const method of REDIRECTED) {
      saved[method] = patched[method];
      patched[method] = toStderr;
    }
  }
  depth += 1;
  try {
    return await work();
  } finally {
    depth -= 1;
    if (depth === 0) {
      for (const method of REDIRECTED) {
        const original = saved[method];
        if (original) patched[method] = original;
      }
      saved = {};
    }
  }
}
