import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type DiditDouble,
  FACE_MATCH_PATH,
  LIVENESS_PATH,
  startDiditDouble,
  TEST_API_KEY,
  throttled,
} from "../support/didit-double.js";
import { type HttpServerProcess, spawnHttpServer } from "../support/http-spawn.js";
import {
  findRedisServer,
  freePort,
  KEY_PATTERN,
  REDIS_PASSWORD,
  type RedisServer,
  startRedisServer,
} from "../support/redis-server.js";
import { baseEnv, SERVER_ENTRY, textOf } from "../support/spawn.js";

/**
 * Remote mode with DIDIT_REDIS_URL: replicas spawned as `node dist/index.js --http`, one real redis-server on a
 * loopback port (Debian's, installed by findRedisServer when missing), the loopback Didit double counting uploads.
 */
const REDIS_BINARY = findRedisServer();
const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const TOKEN_A = "token-a-0123456789abcdef";
const TOKEN_B = "token-b-fedcba9876543210";

let redis: RedisServer;
let admin: Redis;
let double: DiditDouble;
let image: string;
let spoof: string;
const running: HttpServerProcess[] = [];

const call = async (c: Client, name: string, args: Record<string, unknown>) =>
  (await c.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult;

/** `count` replicas sharing the store, each with an MCP client per token. */
async function replicas(count: number, env: Record<string, string> = {}, url = redis.url) {
  const started = await Promise.all(
    Array.from({ length: count }, () =>
      spawnHttpServer({
        env: baseEnv({
          DIDIT_API_KEY: TEST_API_KEY,
          DIDIT_BASE_URL: double.url,
          DIDIT_MCP_TOKENS: `${TOKEN_A},${TOKEN_B}`,
          DIDIT_REDIS_URL: url,
          ...env,
        }),
      }),
    ),
  );
  running.push(...started);
  return Promise.all(
    started.map(async (server) => ({
      server,
      a: await server.connect(TOKEN_A),
      b: await server.connect(TOKEN_B),
    })),
  );
}

const readyz = async (server: HttpServerProcess) => {
  const res = await fetch(`${server.origin}/readyz`);
  return {
    status: res.status,
    body: (await res.json()) as { status: string; reason?: string; degraded?: string },
  };
};

beforeAll(async () => {
  if (!REDIS_BINARY) return;
  redis = await startRedisServer(REDIS_BINARY);
  admin = new Redis(redis.adminUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  double = await startDiditDouble();
  image = (await readFile(path.join(FIXTURES, "live_silentface_T1.jpg"))).toString("base64");
  spoof = (await readFile(path.join(FIXTURES, "spoof_screen_silentface_F2.jpg"))).toString("base64");
});

afterEach(async () => {
  if (!REDIS_BINARY) return;
  for (const server of running.splice(0)) {
    await server.stop();
    // Neither the Didit key, a token nor the store's password ever reaches the logs.
    for (const secret of [TEST_API_KEY, TOKEN_A, TOKEN_B, REDIS_PASSWORD])
      expect(server.stderr()).not.toContain(secret);
    // Every line is ours (JSON): no client library printing errors of its own, address and all.
    expect(server.stderr()).not.toContain("[ioredis]");
  }
  double.reset();
  if (admin.status === "ready") await admin.flushall();
});

afterAll(async () => {
  admin?.disconnect();
  await double?.close();
  await redis?.stop();
});

describe.skipIf(!REDIS_BINARY)("remote mode with DIDIT_REDIS_URL: one budget for every replica", () => {
  it("3 replicas with a budget of 20: 60 calls over all of them make exactly 20 uploads", async () => {
    const nodes = await replicas(3, { DIDIT_MAX_CHECKS_PER_MINUTE: "20" });
    // Two tokens over three replicas: every refusal is the shared count's, whichever setting it names.
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const node = nodes[i % 3];
        return call((i % 2 ? node?.a : node?.b) as Client, "check_passive_liveness", { image_base64: image });
      }),
    );
    expect(results.filter((r) => !r.isError)).toHaveLength(20);
    const refused = results.filter((r) => r.isError);
    expect(refused).toHaveLength(40);
    for (const r of refused) {
      expect(textOf(r)).toMatch(
        /^Error \[rate_limited\]: This server allows 20 checks per minute \(DIDIT_MAX_CHECKS_PER_MINUTE/,
      );
      expect(textOf(r)).toContain("no request was sent to Didit");
    }
    expect(double.requestsTo(LIVENESS_PATH)).toHaveLength(20);
    // Each replica took some of them: the count is shared, not one replica's own.
    const perReplica = await Promise.all(
      nodes.map(async ({ server }) => {
        const text = await (await fetch(`${server.origin}/metrics`)).text();
        return Number(
          /didit_mcp_tool_calls_total\{tool="check_passive_liveness",outcome="approved"\} (\d+)/.exec(
            text,
          )?.[1] ?? 0,
        );
      }),
    );
    expect(perReplica.reduce((a, b) => a + b, 0)).toBe(20);
    // Key names are namespaced (the ACL user may touch nothing else) and hashed: no key, token or token id in them.
    const keys = await admin.keys("*");
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatch(/^didit-mcp:v1:\{[0-9a-f]{24}\}:/);
      for (const secret of [TEST_API_KEY, TOKEN_A, TOKEN_B, "t:"]) expect(key).not.toContain(secret);
      // Every key expires (a minute after its last check).
      expect(await admin.pttl(key)).toBeGreaterThan(0);
    }
    expect(KEY_PATTERN).toBe("didit-mcp:*");
  });

  it("a token's share of 5 holds across replicas, and another token is unaffected", async () => {
    const nodes = await replicas(3, {
      DIDIT_MAX_CHECKS_PER_MINUTE: "100",
      DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN: "5",
    });
    const fromA = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call(nodes[i % 3]?.a as Client, "check_passive_liveness", { image_base64: image }),
      ),
    );
    expect(fromA.filter((r) => !r.isError)).toHaveLength(5);
    for (const r of fromA.filter((r) => r.isError)) {
      expect(textOf(r)).toContain("allows 5 checks per minute (DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN)");
    }
    const fromB = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        call(nodes[i % 3]?.b as Client, "check_passive_liveness", { image_base64: image }),
      ),
    );
    expect(fromB.filter((r) => r.isError)).toEqual([]);
    expect(double.requestsTo(LIVENESS_PATH)).toHaveLength(10);
  });

  it("verify_selfie reserves two credits all or nothing, and gives one back when the match is skipped", async () => {
    const [one, two, three] = await replicas(3, { DIDIT_MAX_CHECKS_PER_MINUTE: "3" });
    if (!one || !two || !three) throw new Error("3 replicas");
    // A spoof: liveness declines, no face match; 2 reserved, 1 given back.
    double.enqueue({ kind: "spoof" });
    const skipped = await call(one.a, "verify_selfie", { user_image_base64: spoof, ref_image_base64: image });
    expect(skipped.structuredContent).toMatchObject({ face_match: null, credits_used: 1 });
    // On another replica the two checks left are there for a full verification (it would be refused without the
    // credit given back: 1 + 2 + 2 > 3).
    const verified = await call(two.a, "verify_selfie", {
      user_image_base64: image,
      ref_image_base64: image,
    });
    expect(verified.structuredContent).toMatchObject({ identity_verified: true, credits_used: 2 });
    expect(double.requestsTo(LIVENESS_PATH)).toHaveLength(2);
    expect(double.requestsTo(FACE_MATCH_PATH)).toHaveLength(1);
    const spent = await call(three.a, "check_passive_liveness", { image_base64: image });
    expect(textOf(spent)).toMatch(/^Error \[rate_limited\]/);

    // All or nothing: with one check left, verify_selfie takes none of it and uploads nothing.
    await admin.flushall();
    for (const node of [one, two]) {
      expect((await call(node.a, "check_passive_liveness", { image_base64: image })).isError).toBeFalsy();
    }
    const refused = await call(three.a, "verify_selfie", {
      user_image_base64: image,
      ref_image_base64: image,
    });
    expect(textOf(refused)).toContain("fewer than the 2 this call needs are left");
    expect((await call(three.b, "check_passive_liveness", { image_base64: image })).isError).toBeFalsy();
    expect(double.requestsTo(LIVENESS_PATH)).toHaveLength(5);
  });

  it("a 429 with Retry-After: 3 on one replica keeps the others from uploading for 3 s", async () => {
    const [one, two, three] = await replicas(3, { DIDIT_MAX_CHECKS_PER_MINUTE: "100" });
    if (!one || !two || !three) throw new Error("3 replicas");
    double.enqueue(throttled(3));
    let throttledSeen: () => void = () => {};
    const seen = new Promise<void>((resolve) => {
      throttledSeen = resolve;
    });
    // The replica that meets the 429 says so in a progress notification, after it has shared the pause.
    const first = one.a.callTool(
      { name: "check_passive_liveness", arguments: { image_base64: image } },
      undefined,
      {
        timeout: 60_000,
        onprogress: (p) => {
          if (String(p.message ?? "").startsWith("Didit is rate limiting")) throttledSeen();
        },
      },
    );
    await seen;
    const throttledAt = double.requests[0]?.receivedAt ?? 0;
    const others = await Promise.all([
      call(two.a, "check_passive_liveness", { image_base64: image }),
      call(three.b, "check_passive_liveness", { image_base64: image }),
    ]);
    expect((await first).isError).toBeFalsy();
    for (const r of others) expect(r.isError).toBeFalsy();
    const uploads = double.requestsTo(LIVENESS_PATH);
    expect(uploads).toHaveLength(4); // the 429, its own retry, and one upload from each other replica
    const after = uploads.slice(1).map((r) => r.receivedAt - throttledAt);
    // Nothing reached Didit within the 3 s (a little less: the pause starts when the 429 is read, the double's
    // clock a moment before), and the waits ended with it rather than at some later time.
    for (const ms of after) {
      expect(ms).toBeGreaterThanOrEqual(2_900);
      expect(ms).toBeLessThan(6_000);
    }
    const metrics = await (await fetch(`${two.server.origin}/metrics`)).text();
    expect(metrics).toMatch(/didit_mcp_shared_pause_holds_total\{outcome="waited"\} [1-9]/);
  });

  it("a pause longer than the call's deadline is refused at once, without an upload", async () => {
    const [one, two] = await replicas(2, { DIDIT_MAX_CHECKS_PER_MINUTE: "100", DIDIT_TIMEOUT_MS: "5000" });
    if (!one || !two) throw new Error("2 replicas");
    double.enqueue(throttled(30));
    const first = await call(one.a, "check_passive_liveness", { image_base64: image });
    expect(textOf(first)).toMatch(/^Error \[rate_limited\]/);
    const started = performance.now();
    const held = await call(two.a, "check_passive_liveness", { image_base64: image });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(textOf(held)).toMatch(/^Error \[rate_limited\]: Didit is rate limiting this API key/);
    expect(textOf(held)).toContain("no request was sent to Didit");
    expect(double.requestsTo(LIVENESS_PATH)).toHaveLength(1);
  });

  it("Redis killed mid-run: paid tools refuse naming the store, /readyz 503, free tools fine; back: checks resume", async () => {
    const [one, two] = await replicas(2, { DIDIT_MAX_CHECKS_PER_MINUTE: "100" });
    if (!one || !two) throw new Error("2 replicas");
    expect((await call(one.a, "check_passive_liveness", { image_base64: image })).isError).toBeFalsy();
    expect(await readyz(one.server)).toMatchObject({ status: 200 });

    await redis.kill();
    admin.disconnect();
    for (const node of [one, two]) {
      const refused = await call(node.a, "check_passive_liveness", { image_base64: image });
      expect(textOf(refused)).toMatch(
        /^Error \[rate_limited\]: The shared budget store \(Redis, DIDIT_REDIS_URL\) cannot be reached.*no request was sent to Didit/,
      );
      const verify = await call(node.b, "verify_selfie", {
        user_image_base64: image,
        ref_image_base64: image,
      });
      expect(textOf(verify)).toContain("shared budget store");
      const ready = await readyz(node.server);
      expect(ready.status).toBe(503);
      expect(ready.body.reason).toMatch(
        /^shared store \(DIDIT_REDIS_URL\) unreachable \(.+\): paid checks are refused$/,
      );
      // The free tools do not need the store.
      const explained = await call(node.a, "explain_warning", { tag: "NO_FACE_DETECTED" });
      expect(explained.isError).toBeFalsy();
      const precheck = await call(node.a, "precheck_face_image", {
        image_base64: Buffer.from("not an image at all, just text").toString("base64"),
      });
      expect(textOf(precheck)).not.toContain("shared budget store");
    }
    expect(double.requestsTo(LIVENESS_PATH)).toHaveLength(1);
    const metrics = await (await fetch(`${one.server.origin}/metrics`)).text();
    expect(metrics).toMatch(/didit_mcp_shared_store_unavailable_total\{outcome="refused"\} [1-9]/);
    expect(metrics).toMatch(/didit_mcp_shared_store_up 0/);
    expect(metrics).not.toContain(REDIS_PASSWORD);

    // A replica started while the store is down starts all the same, not ready.
    const late = await replicas(1, { DIDIT_MAX_CHECKS_PER_MINUTE: "100" });
    expect((await readyz(late[0]?.server as HttpServerProcess)).status).toBe(503);

    await redis.start();
    const back = performance.now();
    // Polling other processes' state (each reconnects on its own timer, at most a second apart): bounded, 100 ms.
    for (const node of [one, two, ...late]) {
      for (let i = 0; i < 100 && (await readyz(node.server)).status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const recoveredMs = performance.now() - back;
    expect(recoveredMs).toBeLessThan(5_000);
    for (const node of [one, two, ...late]) {
      expect((await call(node.a, "check_passive_liveness", { image_base64: image })).isError).toBeFalsy();
    }
    expect(double.requestsTo(LIVENESS_PATH)).toHaveLength(4);
    await admin.connect();
  });

  it("a stalled Redis (SIGSTOP): a call is refused after the 1 s command timeout, /readyz 503; resumed: back", async () => {
    const [node] = await replicas(1, { DIDIT_MAX_CHECKS_PER_MINUTE: "100" });
    if (!node) throw new Error("1 replica");
    redis.signal("SIGSTOP");
    try {
      const started = performance.now();
      const refused = await call(node.a, "check_passive_liveness", { image_base64: image });
      const took = performance.now() - started;
      expect(textOf(refused)).toContain("The shared budget store (Redis, DIDIT_REDIS_URL) cannot be reached");
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(5_000);
      const ready = await readyz(node.server);
      expect(ready.status).toBe(503);
      expect(ready.body.reason).toMatch(/^shared store \(DIDIT_REDIS_URL\) not answering \(timeout\)/);
    } finally {
      redis.signal("SIGCONT");
    }
    // The probe itself asks the store again: no call has to fail first.
    expect(await readyz(node.server)).toMatchObject({ status: 200 });
    expect((await call(node.a, "check_passive_liveness", { image_base64: image })).isError).toBeFalsy();
    const metrics = await (await fetch(`${node.server.origin}/metrics`)).text();
    expect(metrics).toMatch(/didit_mcp_shared_store_errors_total\{op="reserve",reason="timeout"\} 1/);
  });

  it("DIDIT_REDIS_FALLBACK_PER_MINUTE: a small local budget while the store is down, /readyz ready but degraded", async () => {
    const port = await freePort(); // nothing listens there: the store is down from the start
    const [node] = await replicas(
      1,
      { DIDIT_MAX_CHECKS_PER_MINUTE: "100", DIDIT_REDIS_FALLBACK_PER_MINUTE: "2" },
      `redis://:${REDIS_PASSWORD}@127.0.0.1:${port}`,
    );
    if (!node) throw new Error("1 replica");
    const results = [];
    for (let i = 0; i < 3; i++)
      results.push(await call(node.a, "check_passive_liveness", { image_base64: image }));
    expect(results.map((r) => Boolean(r.isError))).toEqual([false, false, true]);
    expect(textOf(results[2] as CallToolResult)).toContain(
      "allows 2 checks per minute (DIDIT_REDIS_FALLBACK_PER_MINUTE)",
    );
    const ready = await readyz(node.server);
    expect(ready.status).toBe(200);
    expect(ready.body.degraded).toMatch(/^shared store \(DIDIT_REDIS_URL\) unreachable/);
    const metrics = await (await fetch(`${node.server.origin}/metrics`)).text();
    expect(metrics).toMatch(/didit_mcp_shared_store_unavailable_total\{outcome="fallback"\} 2/);
  });

  it("a malformed DIDIT_REDIS_URL stops the server with exit 2 and a message that does not quote it", async () => {
    const secretish = "redis//user:hunter2-secret@host:notaport";
    const child = spawn(process.execPath, [SERVER_ENTRY, "--http", "--port", "0"], {
      env: baseEnv({ DIDIT_REDIS_URL: secretish }),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString("utf8");
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("DIDIT_REDIS_URL is not a valid URL");
    expect(stderr).not.toContain("hunter2");
  });

  it("loads the Redis client only when DIDIT_REDIS_URL is set", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "redis-probe-"));
    const probe = path.join(dir, "probe.cjs");
    // Every CommonJS module (ioredis is one, imported from ESM) lands in require.cache: say at exit whether it did.
    await writeFile(
      probe,
      `process.on("exit", () => process.stderr.write("ioredis loaded: " + Object.keys(require.cache).some((k) => k.includes("/node_modules/ioredis/")) + "\\n"));`,
    );
    try {
      const loaded = async (env: Record<string, string>) => {
        const server = await spawnHttpServer({
          env: baseEnv({
            DIDIT_API_KEY: TEST_API_KEY,
            DIDIT_BASE_URL: double.url,
            NODE_OPTIONS: `--require ${probe}`,
            ...env,
          }),
        });
        const client = await server.connect();
        await call(client, "check_passive_liveness", { image_base64: image });
        await server.stop();
        return /ioredis loaded: (\w+)/.exec(server.stderr())?.[1];
      };
      expect(await loaded({})).toBe("false");
      expect(await loaded({ DIDIT_REDIS_URL: redis.url })).toBe("true");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
