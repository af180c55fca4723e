/**
 * The shared budget itself against a real redis-server (src/shared-state/): several processes' worth of connections
 * reserving at once, all-or-nothing reservations of two, and a release that gives back the caller's own entries.
 */
import { Redis } from "ioredis";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseSharedStore } from "../../src/config/redis-url.js";
import { ToolFailure } from "../../src/core/errors.js";
import {
  openSharedState,
  type SharedState,
  stateKeyPrefix,
} from "../../src/transports/http/shared-state/index.js";
import { findRedisServer, type RedisServer, startRedisServer } from "../support/redis-server.js";

const REDIS_BINARY = findRedisServer();
const API_KEY = "test-key-shared-budget-0123";

let redis: RedisServer;
let admin: Redis;
const opened: SharedState[] = [];

async function open(perMinute: number, perMinutePerCaller = perMinute): Promise<SharedState> {
  const parsed = parseSharedStore(redis.url, undefined);
  if (!parsed.ok || !parsed.store) throw new Error("bad test URL");
  const state = await openSharedState({
    store: parsed.store,
    apiKey: API_KEY,
    perMinute,
    perMinutePerCaller,
    registry: new Registry(),
    log: () => {},
    onRefused: () => {},
  });
  opened.push(state);
  return state;
}

const outcome = async (reserve: () => void | Promise<void>) => {
  try {
    await reserve();
    return "taken";
  } catch (error) {
    if (error instanceof ToolFailure && error.code === "rate_limited") return "refused";
    throw error;
  }
};

beforeAll(async () => {
  if (!REDIS_BINARY) return;
  redis = await startRedisServer(REDIS_BINARY);
  admin = new Redis(redis.adminUrl);
});
afterEach(async () => {
  for (const state of opened.splice(0)) await state.close();
  await admin?.flushall();
});
afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

describe.skipIf(!REDIS_BINARY)("the budget shared through Redis", () => {
  it("four connections reserving 200 checks at once against a budget of 20 take exactly 20", async () => {
    const states = await Promise.all([1, 2, 3, 4].map(() => open(20)));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => outcome(() => states[i % 4]?.budgets(`caller-${i % 7}`)(1))),
    );
    expect(results.filter((r) => r === "taken")).toHaveLength(20);
    const whole = `${stateKeyPrefix(API_KEY)}checks`;
    expect(await admin.zcard(whole)).toBe(20);
    const ttl = await admin.pttl(whole);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("a reservation of two is all or nothing: 30 of them against 21 take 10, and the check left is still there", async () => {
    const states = await Promise.all([1, 2, 3].map(() => open(21)));
    const pairs = await Promise.all(
      Array.from({ length: 30 }, (_, i) => outcome(() => states[i % 3]?.budgets("caller")(2))),
    );
    expect(pairs.filter((r) => r === "taken")).toHaveLength(10);
    expect(await outcome(() => states[0]?.budgets("caller")(1))).toBe("taken");
    expect(await outcome(() => states[1]?.budgets("caller")(1))).toBe("refused");
  });

  it("a release gives back this call's own newest entries, to the whole budget and to the caller's share", async () => {
    const [one, two] = await Promise.all([open(3), open(3)]);
    if (!one || !two) throw new Error("two states");
    const verify = one.budgets("caller");
    await verify(2);
    const other = two.budgets("caller");
    await other(1);
    await verify.release(1);
    const prefix = stateKeyPrefix(API_KEY);
    const members = await admin.zrange(`${prefix}checks`, 0, -1);
    expect(members).toHaveLength(2);
    const shares = await admin.keys(`${prefix.replace(/[{}]/g, "\\$&")}checks:token:*`);
    expect(shares).toHaveLength(1);
    expect(await admin.zcard(shares[0] as string)).toBe(2);
    // The other caller's entry is untouched; the released one is the second of `verify`'s two.
    expect(members.filter((m) => m.endsWith(":2"))).toEqual([]);
    expect(await outcome(() => two.budgets("caller")(1))).toBe("taken");
    expect(await outcome(() => two.budgets("caller")(1))).toBe("refused");
  });

  it("a caller refused for its own share takes nothing from the whole budget", async () => {
    const state = await open(4, 2);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await outcome(() => state.budgets("greedy")(1)));
    expect(results).toEqual(["taken", "taken", "refused"]);
    expect(await outcome(() => state.budgets("other")(2))).toBe("taken");
    expect(await outcome(() => state.budgets("third")(1))).toBe("refused");
  });
});
