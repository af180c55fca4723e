// The driver behind scripts/scale-test (run that, not this): replicas + nginx + double + MCP client.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    nginx: { type: "string", default: "nginx" },
    replicas: { type: "string", default: "3" },
    calls: { type: "string", default: "300" },
    concurrency: { type: "string", default: "32" },
    "latency-ms": { type: "string", default: "200" },
    ci: { type: "boolean", default: false },
    // One Redis shared by the replicas (DIDIT_REDIS_URL): the run must end with exactly --budget uploads.
    redis: { type: "boolean", default: false },
    "redis-server": { type: "string", default: "redis-server" },
    budget: { type: "string", default: "100" },
  },
});
const REPLICAS = Number(values.replicas);
const CALLS = Number(values.calls);
const CONCURRENCY = Number(values.concurrency);
const LATENCY = Number(values["latency-ms"]);
const REDIS_BINARY = values.redis ? values["redis-server"] : undefined;
const BUDGET = Number(values.budget);
const TEST_API_KEY = "test-key-0123456789abcdef";
const log = (m) => process.stderr.write(`scale-test: ${m}\n`);

function startDouble() {
  const worker = new Worker(path.join(ROOT, ".bench-dist/bench/double-worker.js"), {
    workerData: { delayMs: LATENCY },
  });
  return new Promise((resolve) => {
    worker.once("message", ({ url }) =>
      resolve({
        url,
        requests: () =>
          new Promise((r) => {
            const onMessage = (m) => {
              if (m.requests === undefined) return;
              worker.off("message", onMessage);
              r(m.requests);
            };
            worker.on("message", onMessage);
            worker.postMessage("requests");
          }),
        close: async () => {
          const closed = new Promise((r) => worker.on("message", (m) => m.closed && r()));
          worker.postMessage("close");
          await closed;
          await worker.terminate();
        },
      }),
    );
  });
}

function startReplica(doubleUrl, redisUrl) {
  const child = spawn(process.execPath, [path.join(ROOT, "dist/index.js"), "--http", "--port", "0"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: os.tmpdir(),
      DIDIT_API_KEY: TEST_API_KEY,
      DIDIT_BASE_URL: doubleUrl,
      DIDIT_MAX_CHECKS_PER_MINUTE: redisUrl ? String(BUDGET) : "10000",
      DIDIT_HTTP_MAX_IN_FLIGHT: "1000",
      ...(redisUrl ? { DIDIT_REDIS_URL: redisUrl } : {}),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stderr.on("data", (d) => {
      stderr += d;
      const m = /"msg":"ready","url":"([^"]+)"/.exec(stderr);
      if (m) resolve({ child, url: m[1], origin: new URL(m[1]).origin, port: new URL(m[1]).port });
    });
    child.once("exit", (code) => reject(new Error(`replica exited ${code}: ${stderr}`)));
  });
}

async function startNginx(replicas, dir) {
  const port = await freePort();
  const conf = `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream mcp_replicas {
${replicas.map((r) => `    server 127.0.0.1:${r.port};`).join("\n")}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 9m;
    location / {
      proxy_pass http://mcp_replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_buffering off;
    }
  }
}
`;
  await writeFile(path.join(dir, "nginx.conf"), conf);
  const child = spawn(values.nginx, ["-p", dir, "-c", path.join(dir, "nginx.conf")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  // Ready when it answers: /healthz goes through to a replica.
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, url: `http://127.0.0.1:${port}/mcp` };
    await new Promise((r) => setTimeout(r, 100)); // polling a port another process opens: no event to wait on
  }
  throw new Error(`nginx did not answer: ${stderr}`);
}

async function startRedis(dir) {
  const port = await freePort();
  const child = spawn(
    REDIS_BINARY,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ready to accept connections")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
  return { child, url: `redis://127.0.0.1:${port}/0` };
}

async function freePort() {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function cpuSecondsOn(replica) {
  const text = await (await fetch(`${replica.origin}/metrics`)).text();
  return Number(/^didit_mcp_process_cpu_seconds_total (\S+)/m.exec(text)?.[1] ?? Number.NaN);
}

async function checksOn(replica) {
  const text = await (await fetch(`${replica.origin}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^didit_mcp_tool_calls_total\{tool="check_passive_liveness",[^}]*\} (\d+)/gm))
    total += Number(m[1]);
  return total;
}

const dir = await mkdtemp(path.join(os.tmpdir(), "scale-test-"));
const double = await startDouble();
const replicas = [];
let nginx;
let redis;
let errors = 0;
let refused = 0;
try {
  if (REDIS_BINARY) redis = await startRedis(dir);
  for (let i = 0; i < REPLICAS; i++) replicas.push(await startReplica(double.url, redis?.url));
  nginx = await startNginx(replicas, dir);
  log(
    `${REPLICAS} replicas behind nginx at ${nginx.url}; Didit double answering in ${LATENCY} ms${redis ? `; one Redis, a shared budget of ${BUDGET}` : ""}`,
  );
  const image = (await readFile(path.join(ROOT, "test/fixtures/live_silentface_T1.jpg"))).toString("base64");
  const client = new Client({ name: "scale-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(nginx.url)));
  // Warm every replica's lazy modules (undici, the pool) outside the timing: one call per replica at least.
  await Promise.all(
    replicas.map(() =>
      client.callTool({ name: "check_passive_liveness", arguments: { image_base64: image } }),
    ),
  );
  const before = await Promise.all(replicas.map(checksOn));
  const cpuBefore = await Promise.all(replicas.map(cpuSecondsOn));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        const n = next++;
        try {
          const r = await client.callTool(
            { name: "check_passive_liveness", arguments: { image_base64: image, vendor_data: `scale-${n}` } },
            undefined,
            { timeout: 60_000 },
          );
          // With a shared budget, a refusal is expected once it is spent: counted apart, never an error.
          if (
            redis &&
            r.isError &&
            /^Error \[rate_limited\]: This server allows/.test(r.content?.[0]?.text ?? "")
          )
            refused++;
          else if (r.isError || r.structuredContent?.vendor_data !== `scale-${n}`) errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const wall = performance.now() - t0;
  const after = await Promise.all(replicas.map(checksOn));
  const cpuAfter = await Promise.all(replicas.map(cpuSecondsOn));
  // CPU time is what a loaded machine cannot inflate the way it inflates wall time.
  const cpuMsPerCall = (cpuAfter.reduce((a, c, i) => a + c - (cpuBefore[i] ?? 0), 0) * 1000) / CALLS;
  const perReplica = after.map((a, i) => a - (before[i] ?? 0));
  const ideal = Math.ceil(CALLS / CONCURRENCY) * LATENCY;
  await client.close();
  // The warm-up calls spend budget too: every upload, warm-up or not, counts against the one budget.
  const uploads = redis ? await double.requests() : undefined;
  if (redis && uploads !== BUDGET) errors++;
  const result = {
    replicas: REPLICAS,
    calls: CALLS,
    concurrency: CONCURRENCY,
    latency_ms: LATENCY,
    wall_ms: Math.round(wall),
    ideal_ms: ideal,
    wall_over_ideal: Number((wall / ideal).toFixed(2)),
    per_replica: perReplica,
    server_cpu_ms_per_call: Number(cpuMsPerCall.toFixed(2)),
    load_average_1m: Number(os.loadavg()[0]?.toFixed(1)),
    cores: os.cpus().length,
    errors,
    ...(redis ? { budget: BUDGET, uploads, refused } : {}),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  log(
    `${CALLS} calls @${CONCURRENCY}: wall ${result.wall_ms} ms vs ideal ${ideal} ms (x${result.wall_over_ideal}); per replica ${perReplica.join(" / ")}; server CPU ${result.server_cpu_ms_per_call} ms/call; load ${result.load_average_1m} on ${result.cores} cores; errors ${errors}${redis ? `; shared budget ${BUDGET}: ${result.uploads} uploads at Didit, ${refused} refused (${result.uploads === BUDGET ? "held exactly" : "NOT held"})` : ""}`,
  );
} finally {
  nginx?.child.kill("SIGTERM");
  for (const r of replicas) r.child.kill("SIGTERM");
  redis?.child.kill("SIGKILL");
  await double.close();
  await rm(dir, { recursive: true, force: true });
}
process.exitCode = errors === 0 ? 0 : 1;
