import { createHash } from "node:crypto";
import type { Registry } from "prom-client";
import type { SharedStoreConfig } from "../../../config/redis-url.js";
import type { CheckBudget } from "../../../core/rate-guard.js";
import type { SharedBackoff } from "../../../didit/shared-backoff.js";
import { createCallerBudgets, type ShareScope } from "../budgets.js";
import { createStoreBackoff } from "./backoff.js";
import { createSharedCallerBudgets, PAUSE_KEY } from "./budgets.js";
import { openSharedStore } from "./store.js";

/** What remote mode shares through the store: the budgets, Didit's 429 pauses, and the store's own readiness. */
export interface SharedState {
  budgets: (tokenId: string) => CheckBudget;
  backoff: SharedBackoff;
  /** For /readyz: `notReady` while paid checks are refused, `degraded` while they run on the local fallback. */
  readiness(): Promise<{ notReady?: string; degraded?: string }>;
  close(): Promise<void>;
}

export interface SharedStateOptions {
  store: SharedStoreConfig;
  /** Didit's key (or undefined in sandbox mode): the state is per key, as Didit's own limit is. */
  apiKey: string | undefined;
  perMinute: number;
  perMinutePerCaller: number;
  registry: Registry;
  log: (level: "info" | "warning", message: string) => void;
  onRefused: (scope: ShareScope) => void;
}

/** A key name's part for a secret or an id: 24 hex digits of a SHA-256, never the value. */
const hashed = (value: string) => createHash("sha256").update(value).digest("hex").slice(0, 24);

/**
 * Keys, all under one hash tag per Didit key (so a cluster keeps them in one slot for the scripts):
 * `didit-mcp:v1:{<key hash>}:checks`, `...:checks:token:<token id hash>` (sorted sets, expire after a minute idle)
 * and `...:didit-429` (a pause, expiring when it ends).
 */
export function stateKeyPrefix(apiKey: string | undefined): string {
  return `didit-mcp:v1:{${hashed(`didit-api-key:${apiKey ?? "sandbox"}`)}}:`;
}

export async function openSharedState(options: SharedStateOptions): Promise<SharedState> {
  const store = await openSharedStore(options.store, { registry: options.registry, log: options.log });
  const prefix = stateKeyPrefix(options.apiKey);
  const fallbackPerMinute = options.store.fallbackPerMinute;
  const fallback =
    fallbackPerMinute === undefined
      ? undefined
      : createCallerBudgets(
          fallbackPerMinute,
          Math.min(fallbackPerMinute, options.perMinutePerCaller),
          options.onRefused,
          Date.now,
          { whole: "DIDIT_REDIS_FALLBACK_PER_MINUTE", share: "DIDIT_REDIS_FALLBACK_PER_MINUTE" },
        );
  return {
    budgets: createSharedCallerBudgets(store, {
      prefix,
      hash: hashed,
      perMinute: options.perMinute,
      perMinutePerCaller: options.perMinutePerCaller,
      fallback,
      onRefused: options.onRefused,
    }),
    backoff: createStoreBackoff(store, `${prefix}${PAUSE_KEY}`),
    async readiness() {
      const down = await store.unavailableReason();
      if (down === undefined) return {};
      return fallback
        ? { degraded: `${down}: each replica counts DIDIT_REDIS_FALLBACK_PER_MINUTE on its own` }
        : { notReady: `${down}: paid checks are refused` };
    },
    close: () => store.close(),
  };
}
