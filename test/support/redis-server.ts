import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";

/** The ACL user the servers under test log in as: it may touch only our namespace, which proves the key names. */
export const REDIS_USER = "didit-mcp";
export const REDIS_PASSWORD = "redis-pass-5f7c1e9a2b4d";
export const KEY_PATTERN = "didit-mcp:*";

export interface RedisServer {
  port: number;
  /** redis://didit-mcp:<password>@127.0.0.1:<port>/0 */
  url: string;
  /** The default user's URL (no password), for the test's own look at the keys. */
  adminUrl: string;
  /** Kills the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Sends the server a signal: SIGSTOP stalls it (connections stay open, nothing answers), SIGCONT resumes. */
  signal(signal: NodeJS.Signals): void;
  /** Starts it again on the same port (empty: nothing is saved). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const CANDIDATES = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];

/** redis-server where Debian (or a local build) puts it, without installing anything (the bench). */
export function installedRedisServer(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/**
 * Debian's redis-server, installed with apt-get when missing (as root); undefined with the reason printed where it
 * cannot be had, so the suite skips instead of failing on a machine without it.
 */
export function findRedisServer(): string | undefined {
  const found = installedRedisServer;
  if (found()) return found();
  const why = (() => {
    if (process.getuid?.() !== 0) return "not root, so apt-get cannot install it";
    try {
      const apt = { stdio: "ignore" as const, timeout: 240_000 };
      execFileSync("apt-get", ["update", "-q"], apt);
      execFileSync("apt-get", ["install", "-y", "-q", "redis-server"], {
        ...apt,
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
      return found() ? undefined : "apt-get installed nothing runnable";
    } catch (error) {
      return `apt-get install redis-server failed (${(error as Error).message.split("\n")[0]})`;
    }
  })();
  if (why !== undefined) process.stderr.write(`SKIPPED: redis-server unavailable: ${why}\n`);
  return found();
}

/** A throwaway redis-server on a free loopback port, in a temp dir, saving nothing. */
export async function startRedisServer(binary: string): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "redis-test-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn(
      binary,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        "--user",
        REDIS_USER,
        "on",
        `>${REDIS_PASSWORD}`,
        `~${KEY_PATTERN}`,
        "+@all",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = proc;
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString("utf8");
        if (out.includes("Ready to accept connections")) {
          proc.stdout?.off("data", onData);
          resolve();
        }
      };
      proc.stdout?.on("data", onData);
      proc.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    });
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://${REDIS_USER}:${REDIS_PASSWORD}@127.0.0.1:${port}/0`,
    adminUrl: `redis://127.0.0.1:${port}/0`,
    kill,
    start,
    signal: (signal) => {
      child?.kill(signal);
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
