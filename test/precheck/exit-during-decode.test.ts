import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { blackPng } from "../support/crafted-images.js";
import { baseEnv, SERVER_ENTRY } from "../support/spawn.js";

vi.setConfig({ testTimeout: 150_000, hookTimeout: 30_000 });

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time the process (all its threads, libvips' included) has used, in seconds; from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

describe.skipIf(process.platform !== "linux")("closing stdin while an image decodes", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "didit-slow-decode-"));
    // Allowed, but the slowest kind there is: interlaced 16-bit RGBA must be loaded whole, ~40 MP takes 8-10 s and
    // libvips' timeout cannot interrupt that load.
    await writeFile(
      path.join(dir, "slow.png"),
      blackPng({ width: 7_300, height: 5_470, bitDepth: 16, colorType: 6, interlaced: true }),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("still makes the server exit within 1 s", async () => {
    const child = spawn(process.execPath, [SERVER_ENTRY, "--allow-dir", dir, "--allow-dir", FIXTURES], {
      env: baseEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const exited = new Promise<string>((resolve) =>
      child.on("exit", (code, signal) => resolve(signal ?? `${code}`)),
    );
    const answered = new Set<number>();
    let pending = "";
    const waiters = new Map<number, () => void>();
    child.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      for (let nl = pending.indexOf("\n"); nl !== -1; nl = pending.indexOf("\n")) {
        const id = (JSON.parse(pending.slice(0, nl)) as { id?: number }).id;
        pending = pending.slice(nl + 1);
        if (typeof id === "number") {
          answered.add(id);
          waiters.get(id)?.();
        }
      }
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += `${Math.round(performance.now())} ${c.toString("utf8")}`;
    });
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    const answer = (id: number) => new Promise<void>((resolve) => waiters.set(id, resolve));
    const precheck = (id: number, file: string) =>
      send({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "precheck_face_image", arguments: { image_path: file } },
      });

    send({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    await answer(1);
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    // Load the engine first, so that what runs below is the decode, not the engine's start-up.
    precheck(2, path.join(FIXTURES, "live_silentface_T1.jpg"));
    await answer(2);

    const pid = child.pid as number;
    const before = cpuSeconds(pid);
    precheck(3, "slow.png");
    // Proof the decode is under way: the process has burned a second of CPU on it and not answered.
    await vi.waitFor(() => expect(cpuSeconds(pid) - before).toBeGreaterThan(1), {
      timeout: 90_000,
      interval: 50,
    });
    expect(answered.has(3)).toBe(false);

    const closed = performance.now();
    child.stdin.end();
    const how = await exited;
    const exitMs = performance.now() - closed;
    expect(answered.has(3), stderr).toBe(false);
    // libvips cannot be interrupted mid-load and a clean exit would wait for it: the server ends itself at once.
    expect(["0", "SIGKILL"]).toContain(how);
    expect(exitMs, `closed at ${Math.round(closed)}\n${stderr}`).toBeLessThan(1_000);
  });
});
