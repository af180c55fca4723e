/**
 * The on-device pre-check: the public entry points. Importing this module is cheap; the engine (Human on the
 * TF.js WASM backend, ONNX Runtime Web, sharp) is imported and initialised on the first analysis.
 */
import { ToolFailure, truncate } from "../core/errors.js";
import { withConsoleOnStderr } from "./console-guard.js";
import type { PrecheckEngine } from "./engine.js";
import { type EngineLocations, howToInstall, isPrecheckEngineAvailable, resolveEngine } from "./loader.js";
import { createSerialQueue } from "./queue.js";
import type { AnalyzeOptions, LocalAnalysis } from "./types.js";

export type { EngineLocations } from "./loader.js";
export { describePrecheckEngine, installCommand, npxCommand } from "./loader.js";
export type { AnalyzeOptions, LocalAnalysis, PrecheckWarning, QualityFactors } from "./types.js";
export { isPrecheckEngineAvailable };

/** Throws ToolFailure not_configured (with the install command) when a package or model file is missing. */
export async function assertPrecheckEngineInstalled(locations: EngineLocations = {}): Promise<void> {
  await resolveEngine(locations);
}

/** Process-wide: the WASM backends are single-threaded and shared, so every analyser waits in one line. */
const queue = createSerialQueue();
const engines = new Map<string, Promise<PrecheckEngine>>();

/** Loads (once per set of locations) and returns the engine; a failed load is not cached, so it can be retried. */
function engineFor(locations: EngineLocations): Promise<PrecheckEngine> {
  const key = JSON.stringify(locations);
  let engine = engines.get(key);
  if (!engine) {
    engine = (async () => {
      const resolved = await resolveEngine(locations);
      const { createPrecheckEngine } = await import("./engine.js");
      return createPrecheckEngine(resolved).catch((error: unknown) => {
        throw error instanceof ToolFailure ? error : brokenEngine(error);
      });
    })();
    engines.set(key, engine);
    engine.catch(() => engines.delete(key));
  }
  return engine;
}

/** Everything was found but did not start: a damaged install (a truncated model, a mismatched version). */
function brokenEngine(error: unknown): ToolFailure {
  const detail = error instanceof Error ? error.message : String(error);
  return new ToolFailure(
    "not_configured",
    `The on-device pre-check engine failed to start (${truncate(detail, 200)}).`,
    `Reinstall the engine. ${howToInstall()} Reinstall didit-passive-liveness-mcp too if a model file is damaged.`,
  );
}

export interface PrecheckAnalyzer {
  analyze(bytes: Uint8Array, options?: AnalyzeOptions): Promise<LocalAnalysis>;
  /** Loads the engine now (it loads on first use otherwise); resolves to the load time in ms. */
  warm(): Promise<number>;
  /** Live TF.js tensors, after loading the engine. */
  tensorCount(): Promise<number>;
}

/** An analyser bound to engine locations; tests use it to point the loader at a missing package. */
export function createPrecheckAnalyzer(locations: EngineLocations = {}): PrecheckAnalyzer {
  return {
    analyze: (bytes, options = {}) =>
      queue.run(
        () =>
          withConsoleOnStderr(async () => {
            const engine = await engineFor(locations);
            return engine.analyze(bytes, { rotate: options.rotate === true });
          }),
        options.signal,
      ),
    warm: () =>
      queue.run(() =>
        withConsoleOnStderr(async () => {
          const started = performance.now();
          await engineFor(locations);
          return performance.now() - started;
        }),
      ),
    tensorCount: async () => (await engineFor(locations)).tensorCount(),
  };
}

const defaultAnalyzer = createPrecheckAnalyzer();

/**
 * Analyses a face photo on this machine (nothing is sent anywhere): faces, luminance, quality, orientation,
 * warnings and an advisory anti-spoofing estimate. One analysis runs at a time; others wait their turn.
 * Throws ToolFailure not_configured when the optional engine packages are not installed.
 */
export function analyzeFaceImage(bytes: Uint8Array, options: AnalyzeOptions = {}): Promise<LocalAnalysis> {
  return defaultAnalyzer.analyze(bytes, options);
}
