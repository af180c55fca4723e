import type { Config } from "../../config/config.js";
import { createDiditClient, type DiditClient } from "../../didit/client.js";
import { createSandboxClient } from "../../didit/sandbox-client.js";
import type { SharedBackoff } from "../../didit/shared-backoff.js";

/** Sandbox only when asked for; otherwise Didit when a key is set; otherwise none (checks answer not_configured). */
export function selectLivenessClient(
  config: Config,
  options: { backoff?: SharedBackoff } = {},
): DiditClient | undefined {
  if (config.sandbox) return createSandboxClient();
  if (!config.apiKey) return undefined;
  return createDiditClient({
    baseUrl: config.baseUrl,
    apiKey: config.apiKey,
    timeoutMs: config.timeoutMs,
    backoff: options.backoff,
  });
}
