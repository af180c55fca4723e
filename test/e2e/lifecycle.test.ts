/**
 * Process lifecycle of the built server: shutdown with a check in flight (stdin EOF, SIGTERM) and the CLI
 * surface (--version, --help, unknown flag, missing allowed directory).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { baseEnv, SERVER_ENTRY } from "../support/spawn.js";
import { startTcpTap, type TcpTap, within } from "../support/tcp-tap.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const VERSION = (
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../../package.json"), "utf8")) as {
    version: string;
  }
).version;

let double: DiditDouble;
let tap: TcpTap;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  double = await startDiditDouble();
  tap = await startTcpTap(double.url);
});
afterEach(() => double.reset());
afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await tap?.close();
  await double?.close();
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code and performance.now() at the exit event. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function run(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [SERVER_ENTRY, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString("utf8");
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

function send(child: ChildProcessWithoutNullStreams, message: object): void {
  child.stdin.write(`${JSON.stringify(message)}\n`);
}

/** Starts a session by raw JSON-RPC and sends one check that the double leaves hanging; resolves once it arrived. */
async function startHangingCheck(): Promise<Running> {
  double.enqueue({ kind: "hang" });
  const running = run(
    ["--allow-dir", FIXTURES],
    // A long deadline: only the shutdown may end the in-flight request.
    baseEnv({ DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: tap.url, DIDIT_TIMEOUT_MS: "60000" }),
  );
  send(running.child, {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "lifecycle", version: "1" },
    },
  });
  send(running.child, { jsonrpc: "2.0", method: "notifications/initialized" });
  send(running.child, {
    jsonrpc: "2.0",
    id: 2,
    method: "tools/call",
    params: { name: "check_passive_liveness", arguments: { image_path: "syn_astronaut.jpg" } },
  });
  await double.waitForRequests();
  return running;
}

describe("shutdown with a check in flight", () => {
  it.for([
    ["stdin EOF", "stdin closed", (child: ChildProcessWithoutNullStreams) => child.stdin.end()],
    ["SIGTERM", "SIGTERM", (child: ChildProcessWithoutNullStreams) => child.kill("SIGTERM")],
  ] as const)(
    "%s: exits 0 promptly and closes the in-flight Didit connection",
    async ([name, reason, stop], { annotate }) => {
      const running = await startHangingCheck();
      const inFlight = tap.inFlight();
      expect(inFlight).toHaveLength(1);
      const [conn] = inFlight;

      const stoppedAt = performance.now();
      stop(running.child);
      const exit = await within(running.exited, 10_000, `exit after ${name}`);
      const exitMs = exit.at - stoppedAt;
      const closedAt = conn ? await within(conn.closed, 10_000, "closing the in-flight connection") : NaN;
      const closedMs = closedAt - stoppedAt;
      await annotate(
        `${name}: exited ${exitMs.toFixed(1)} ms after it, in-flight HTTP connection closed after ${closedMs.toFixed(1)} ms`,
      );

      expect(exit).toMatchObject({ code: 0, signal: null });
      // Generous bounds (tens of ms measured): a regression would wait for the 60 s deadline.
      expect(exitMs).toBeLessThan(10_000);
      expect(closedMs).toBeLessThan(10_000);
      // Closed before the process was gone: the shutdown aborted the request, the OS did not just reap the socket.
      expect(closedAt).toBeLessThan(exit.at);
      expect(double.requests).toHaveLength(1);
      expect(running.stderr()).toContain(`shutting down (${reason})`);
      expect(running.stderr()).not.toContain(TEST_API_KEY);
      expect(running.stderr()).not.toMatch(/Unhandled|uncaught|internal_error|\berror:/i);
      // Whatever reached stdout is protocol: JSON-RPC lines only.
      for (const line of running
        .stdout()
        .split("\n")
        .filter((l) => l !== "")) {
        expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" });
      }
    },
  );
});

describe("command line", () => {
  const env = () => baseEnv({ DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url });

  it("--version prints only the version line and exits 0", async () => {
    const running = run(["--version"], env());
    const exit = await within(running.exited, 10_000, "exit after --version");
    expect(exit.code).toBe(0);
    expect(running.stdout()).toBe(`${VERSION}\n`);
  });

  it("--help prints usage and exits 0", async () => {
    const running = run(["--help"], env());
    const exit = await within(running.exited, 10_000, "exit after --help");
    expect(exit.code).toBe(0);
    expect(running.stdout()).toMatch(/^Usage: didit-passive-liveness-mcp/);
    expect(running.stdout()).toContain("--allow-dir");
  });

  it("an unknown flag exits 2 with a message on stderr and nothing on stdout", async () => {
    const running = run(["--allow-dirs", FIXTURES], env());
    const exit = await within(running.exited, 10_000, "exit after an unknown flag");
    expect(exit.code).toBe(2);
    expect(running.stdout()).toBe("");
    expect(running.stderr()).toContain("--allow-dirs");
    expect(running.stderr()).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  // These used to start fine and then fail every check as a "may have been billed" network_error.
  it.each([
    ["a DIDIT_API_KEY with a line break", { DIDIT_API_KEY: `${TEST_API_KEY}\nx-evil: 1` }, "DIDIT_API_KEY"],
    ["plain http to a remote DIDIT_BASE_URL", { DIDIT_BASE_URL: "http://verification.didit.me" }, "https"],
    [
      "credentials in DIDIT_BASE_URL",
      { DIDIT_BASE_URL: `https://user:${TEST_API_KEY}@proxy.example/didit` },
      "credentials",
    ],
    [
      "a query in DIDIT_BASE_URL",
      { DIDIT_BASE_URL: `https://proxy.example/didit?key=${TEST_API_KEY}` },
      "query",
    ],
  ])("%s exits 2 with a message that never quotes the key or the URL", async (_what, extra, mention) => {
    const running = run(["--allow-dir", FIXTURES], { ...env(), ...extra });
    const exit = await within(running.exited, 10_000, "exit after a bad setting");
    expect(exit.code).toBe(2);
    expect(running.stdout()).toBe("");
    expect(running.stderr()).toContain(mention);
    expect(running.stderr()).not.toContain(TEST_API_KEY.slice(0, 8));
    expect(running.stderr()).not.toMatch(/proxy\.example|verification\.didit\.me/);
    expect(running.stderr()).not.toMatch(/\n\s+at /);
  });

  it("a boolean variable with a value it does not take exits 2 naming the variable and the values", async () => {
    const running = run(["--allow-dir", FIXTURES], { ...env(), DIDIT_SANDBOX: "maybe" });
    const exit = await within(running.exited, 10_000, "exit after DIDIT_SANDBOX=maybe");
    expect(exit.code).toBe(2);
    expect(running.stdout()).toBe("");
    expect(running.stderr()).toBe(
      "didit-passive-liveness-mcp: DIDIT_SANDBOX must be true or false (also 1/0, yes/no; empty means false)\n",
    );
  });

  it.each([
    ["DIDIT_TOOLS", [], { DIDIT_TOOLS: "check_liveness" }],
    ["--tools", ["--tools", "free,nope"], {}],
  ])(
    "an unknown tool name in %s exits 2 naming the valid ones, with nothing on stdout",
    async (_what, args, extra) => {
      const running = run(args, { ...env(), ...extra });
      const exit = await within(running.exited, 10_000, "exit after an unknown tool name");
      expect(exit.code).toBe(2);
      expect(running.stdout()).toBe("");
      expect(running.stderr()).toMatch(/unknown tool/);
      expect(running.stderr()).toContain(
        "valid: check_passive_liveness, explain_warning, precheck_face_image, match_faces, verify_selfie, or free",
      );
    },
  );

  it("a missing --allow-dir directory exits 2 naming it, with nothing on stdout", async () => {
    const missing = path.join(os.tmpdir(), `didit-missing-${randomUUID()}`);
    const running = run(["--allow-dir", missing], env());
    const exit = await within(running.exited, 10_000, "exit after a missing directory");
    expect(exit.code).toBe(2);
    expect(running.stdout()).toBe("");
    expect(running.stderr()).toContain(missing);
    expect(running.stderr()).not.toMatch(/\n\s+at /);
  });
});
