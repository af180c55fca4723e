import { Redis } from "ioredis";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { SharedStoreConfig } from "../../../config/redis-url.js";

/** How long one command may take before the store counts as unreachable for that call. */
const COMMAND_TIMEOUT_MS = 1_000;
/** How long start-up waits for the first connection before serving anyway (a down store is not fatal). */
const FIRST_CONNECT_WAIT_MS = 2_000;
/** The sliding window every budget counts over, as src/core/rate-guard.ts does. */
export const WINDOW_MS = 60_000;

/**
 * The all-or-nothing reservation, atomic in Redis (one script runs at a time): forget what left the minute, refuse
 * when the caller's share or the whole budget has fewer than `count` left (the share first, as
 * src/transports/http/budgets.ts does), else add `count` entries to both. Time is the store's own clock, so
 * replicas whose clocks differ count one minute. Returns {0, 0, pause} taken, or {1|2, ms until the oldest entry
 * leaves, pause} refused by the share (1) or the whole budget (2), where `pause` is what is left of a 429 pause
 * (KEYS[3]): read in the same round trip, so the upload that follows need not ask again.
 */
const RESERVE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count = tonumber(ARGV[1])
local window = tonumber(ARGV[5])
local limits = { tonumber(ARGV[3]), tonumber(ARGV[2]) }
local keys = { KEYS[2], KEYS[1] }
local pause = redis.call('PTTL', KEYS[3])
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', keys[i], '-inf', now - window)
  if redis.call('ZCARD', keys[i]) + count > limits[i] then
    local oldest = redis.call('ZRANGE', keys[i], 0, 0, 'WITHSCORES')
    local wait = window
    if oldest[2] then wait = tonumber(oldest[2]) + window - now end
    return { i, wait, pause }
  end
end
for i = 1, count do
  redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. i)
  redis.call('ZADD', KEYS[2], now, ARGV[4] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], window)
redis.call('PEXPIRE', KEYS[2], window)
return { 0, 0, pause }
`;

/** Starts or lengthens the pause every replica honours (never shortens one already in force). */
const PAUSE_LUA = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
`;

export type StoreOp = "reserve" | "release" | "pause" | "pause_check" | "ping";

export interface ReserveKeys {
  whole: string;
  share: string;
  /** The 429 pause, read along with the reservation. */
  pause: string;
}

export type ReserveResult = { taken: true } | { taken: false; scope: "token" | "process"; waitMs: number };

/** Raised by every store operation that could not be answered: the caller decides (refuse, or fall back). */
export class StoreUnavailable extends Error {
  override readonly name = "StoreUnavailable";
}

export interface SharedStore {
  /** Why the store cannot count checks now (for /readyz), or undefined; pings a store whose last command failed. */
  unavailableReason(): Promise<string | undefined>;
  reserve(
    keys: ReserveKeys,
    count: number,
    limits: { whole: number; share: number },
    member: string,
  ): Promise<ReserveResult>;
  /** Removes these reservations from both keys (an unused credit given back). */
  release(keys: ReserveKeys, members: readonly string[]): Promise<void>;
  pause(key: string, ms: number): Promise<void>;
  /**
   * Milliseconds left of the pause at `key` (0: none). A reading this process made within `maxAgeMs` (every
   * reservation makes one) is used instead of a round trip: a 429 seen elsewhere in that window may let one more
   * request through, which Didit then refuses as before.
   */
  pauseLeft(key: string, maxAgeMs?: number): Promise<number>;
  /** Counts a paid check that met the store down: refused, or let through on the local fallback budget. */
  countUnavailable(outcome: "refused" | "fallback"): void;
  /** Counts a check held back by a Didit 429 that a replica saw: it waited, or was refused (past its deadline). */
  countHold(outcome: "waited" | "refused"): void;
  close(): Promise<void>;
}

interface ScriptCommands {
  diditReserve(...args: (string | number)[]): Promise<[number, number, number]>;
  diditPause(key: string, ms: number): Promise<number>;
}

/**
 * One connection per process to the store named by DIDIT_REDIS_URL. Commands fail at once while it is down (no
 * offline queue: a check must not wait on a store that may never come back), and it reconnects by itself, so checks
 * resume without a restart. Latency and errors go to `registry`. Nothing here logs or labels the connection string:
 * errors are reduced to their code (ECONNREFUSED, ETIMEDOUT, NOAUTH, ...).
 */
export async function openSharedStore(
  config: SharedStoreConfig,
  options: { registry?: Registry; log: (level: "info" | "warning", message: string) => void },
): Promise<SharedStore> {
  const metrics = createStoreMetrics(options.registry ?? new Registry());
  const redis = connectRedis(config);
  const scripts = redis as unknown as ScriptCommands;
  const health = watchHealth(redis, metrics.up, options.log);
  // The latest reading of each pause key: when it was read and when, by this process's clock, the pause ends.
  const readings = new Map<string, { at: number; until: number }>();
  const note = (key: string, pttl: number) => {
    const at = performance.now();
    readings.set(key, { at, until: at + Math.max(0, pttl) });
  };
  const run = <T>(op: StoreOp, command: () => Promise<T>) => runCommand(redis, metrics, health, op, command);
  await firstConnect(redis);
  return {
    async unavailableReason() {
      if (redis.status !== "ready")
        return `shared store (DIDIT_REDIS_URL) unreachable (${health.lastFailure ?? redis.status})`;
      if (health.lastFailure === undefined) return undefined;
      // Connected but its last command failed (a stalled store): ask it again rather than wait for traffic.
      await run("ping", () => redis.ping()).catch(() => undefined);
      return health.lastFailure === undefined
        ? undefined
        : `shared store (DIDIT_REDIS_URL) not answering (${health.lastFailure})`;
    },
    async reserve(keys, count, limits, member) {
      const [code, waitMs, pause] = await run("reserve", () =>
        scripts.diditReserve(
          keys.whole,
          keys.share,
          keys.pause,
          count,
          limits.whole,
          limits.share,
          member,
          WINDOW_MS,
        ),
      );
      note(keys.pause, Number(pause));
      if (code === 0) return { taken: true };
      return { taken: false, scope: code === 1 ? "token" : "process", waitMs: Number(waitMs) };
    },
    async release(keys, members) {
      if (members.length === 0) return;
      await run("release", () =>
        redis
          .multi()
          .zrem(keys.whole, ...members)
          .zrem(keys.share, ...members)
          .exec(),
      );
    },
    async pause(key, ms) {
      await run("pause", () => scripts.diditPause(key, Math.max(1, Math.ceil(ms))));
      readings.delete(key);
    },
    async pauseLeft(key, maxAgeMs = 0) {
      const reading = readings.get(key);
      const now = performance.now();
      if (reading && now - reading.at <= maxAgeMs) return Math.max(0, reading.until - now);
      const left = await run("pause_check", () => redis.pttl(key));
      note(key, left);
      return Math.max(left, 0);
    },
    countUnavailable(outcome) {
      metrics.unavailable.inc({ outcome });
    },
    countHold(outcome) {
      metrics.holds.inc({ outcome });
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

type StoreMetrics = ReturnType<typeof createStoreMetrics>;

function createStoreMetrics(registry: Registry) {
  return {
    latency: new Histogram({
      name: "didit_mcp_shared_store_latency_seconds",
      help: "Round trip of each shared-store (Redis) operation, by operation.",
      labelNames: ["op"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    errors: new Counter({
      name: "didit_mcp_shared_store_errors_total",
      help: "Shared-store (Redis) operations that failed, by operation and reason (unreachable, timeout, error).",
      labelNames: ["op", "reason"] as const,
      registers: [registry],
    }),
    unavailable: new Counter({
      name: "didit_mcp_shared_store_unavailable_total",
      help: "Paid checks that met the shared store down: refused, or counted on DIDIT_REDIS_FALLBACK_PER_MINUTE.",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    holds: new Counter({
      name: "didit_mcp_shared_pause_holds_total",
      help: "Checks held back by a Didit 429 seen by any replica: waited, or refused as past the call's deadline.",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    up: new Gauge({
      name: "didit_mcp_shared_store_up",
      help: "1 while the shared store (Redis) answers, else 0.",
      registers: [registry],
    }),
  };
}

function connectRedis(config: SharedStoreConfig): Redis {
  const redis = new Redis(config.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: FIRST_CONNECT_WAIT_MS,
    // Quick to notice the store is back (checks resume within about a second), never a tight loop.
    retryStrategy: (times) => Math.min(100 * times, 1_000),
    connectionName: "didit-passive-liveness-mcp",
  });
  redis.defineCommand("diditReserve", { numberOfKeys: 3, lua: RESERVE_LUA });
  redis.defineCommand("diditPause", { numberOfKeys: 1, lua: PAUSE_LUA });
  return redis;
}

/** Whether the store answers, as the `up` gauge and one log line per change say; `lastFailure` is why not. */
interface StoreHealth {
  lastFailure: string | undefined;
  markUp(): void;
  markDown(why: string): void;
}

function watchHealth(
  redis: Redis,
  up: StoreMetrics["up"],
  log: (level: "info" | "warning", message: string) => void,
): StoreHealth {
  const health: StoreHealth = {
    lastFailure: "not connected yet",
    markUp() {
      if (health.lastFailure !== undefined) log("info", "shared store (DIDIT_REDIS_URL) answering");
      health.lastFailure = undefined;
      up.set(1);
    },
    markDown(why) {
      if (health.lastFailure === undefined) {
        log("warning", `shared store (DIDIT_REDIS_URL) unreachable (${why}); paid checks are refused`);
      }
      health.lastFailure = why;
      up.set(0);
    },
  };
  up.set(0);
  redis.on("ready", () => health.markUp());
  // Every connection error arrives here (ioredis would print unhandled ones itself, address included).
  redis.on("error", (error: unknown) => health.markDown(reasonOf(error)));
  redis.on("end", () => health.markDown("connection closed"));
  redis.on("close", () => {
    if (redis.status !== "ready") health.markDown(health.lastFailure ?? "connection closed");
  });
  return health;
}

/** One command, timed and counted; a store that is down or failing becomes StoreUnavailable with its reason. */
async function runCommand<T>(
  redis: Redis,
  metrics: StoreMetrics,
  health: StoreHealth,
  op: StoreOp,
  command: () => Promise<T>,
): Promise<T> {
  if (redis.status !== "ready") {
    metrics.errors.inc({ op, reason: "unreachable" });
    throw new StoreUnavailable(health.lastFailure ?? redis.status);
  }
  const stop = metrics.latency.startTimer({ op });
  try {
    const result = await command();
    health.markUp();
    return result;
  } catch (error) {
    const why = reasonOf(error);
    metrics.errors.inc({ op, reason: /timed? ?out/i.test(why) ? "timeout" : "error" });
    health.markDown(why);
    throw new StoreUnavailable(why);
  } finally {
    stop();
  }
}

/** Serve sooner rather than later: a store that is down at start-up is the "unreachable" case, not a failure. */
function firstConnect(redis: Redis): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, FIRST_CONNECT_WAIT_MS);
    function done() {
      clearTimeout(timer);
      redis.off("ready", done);
      redis.off("error", done);
      resolve();
    }
    redis.once("ready", done);
    redis.once("error", done);
  });
}

/** A bounded word for a failure: the error's code, or the first words of its message with any address removed. */
function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^[A-Z_]{2,32}$/.test(code)) return code;
  const message = error instanceof Error ? error.message : String(error);
  const word = /^[A-Z][A-Z_]{2,31}\b/.exec(message)?.[0];
  if (word) return word;
  if (/timed? ?out/i.test(message)) return "timeout";
  if (/max ?retries/i.test(message)) return "connection lost";
  if (/writeable|offline queue/i.test(message)) return "not connected";
  return "error";
}
