import type { Config } from "../config.js";
import { createDiditClient, type DiditClient } from "../didit/client.js";
import type { SharedBackoff } from "../didit/shared-backoff.js";
import { createSandboxClient, type LocalLook } from "../sandbox/sandbox-client.js";

/** Sandbox only when asked for; otherwise Didit when a key is set; otherwise none (checks answer not_configured). */
export function selectLivenessClient(
  config: Config,
  options: { backoff?: SharedBackoff } = {},
): DiditClient | undefined {
  if (config.sandbox) return createSandboxClient({ look: localLook(config) });
  if (!config.apiKey) return undefined;
  return createDiditClient({
    baseUrl: config.baseUrl,
    apiKey: config.apiKey,
    timeoutMs: config.timeoutMs,
    backoff: options.backoff,
  });
}

/** The on-device engine, loaded only when a sandbox check runs and only if it is installed. */
function localLook(config: Config): LocalLook {
  const engine = config.precheckModelsDir ? { modelsDir: config.precheckModelsDir } : {};
  return async (bytes, rotate) => {
    const precheck = await import("../precheck/index.js");
    if (!(await precheck.isPrecheckEngineAvailable(engine))) return undefined;
    return precheck.createPrecheckAnalyzer(engine).analyze(bytes, { rotate });
  };
}
