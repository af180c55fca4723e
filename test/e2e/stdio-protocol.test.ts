/**
 * What the built server answers on stdio to messages it cannot deliver (unparsable, invalid, oversized, bad
 * resource URIs), how much it logs for a flood of them, and how it ends when the client closes its stdout.
 * Raw JSON-RPC lines on the child's stdin; exact replies read from its stdout.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { baseEnv, SERVER_ENTRY } from "../support/spawn.js";
import { within } from "../support/tcp-tap.js";

const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

interface Raw {
  child: ChildProcessWithoutNullStreams;
  /** Complete stdout lines so far, as text. */
  lines: string[];
  stderr(): string;
  /** Resolves once a stdout line parses to a message with this id. */
  reply(id: number | string): Promise<unknown>;
  /** Resolves once stderr contains this text. */
  logged(text: string): Promise<void>;
  send(line: string): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(): Raw {
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    env: baseEnv({ DIDIT_SANDBOX: "1" }),
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.push(child);
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout.on("data", (c: Buffer) => {
    const parts = (partial + c.toString("utf8")).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    wake();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString("utf8");
    wake();
  });
  const until = <T>(check: () => T | undefined): Promise<T> =>
    new Promise((resolve) => {
      const waiter = () => {
        const value = check();
        if (value === undefined) return;
        waiters.delete(waiter);
        resolve(value);
      };
      waiters.add(waiter);
      waiter();
    });
  let scanned = 0;
  const byId = new Map<unknown, unknown>();
  const reply = (id: number | string) =>
    until(() => {
      for (; scanned < lines.length; scanned++) {
        const message = JSON.parse(lines[scanned] as string) as { id?: unknown };
        if (message.id !== null && message.id !== undefined) byId.set(message.id, message);
      }
      return byId.get(id);
    });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    stderr: () => stderr,
    reply,
    logged: (text) => until(() => (stderr.includes(text) ? true : undefined)).then(() => undefined),
    send: (line) => child.stdin.write(`${line}\n`),
    exited,
  };
}

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});
const INITIALIZED = JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" });
const STACK_TRACE = /\n\s+at /;

describe("messages the server cannot deliver get the JSON-RPC error the spec names", () => {
  it("answers unparsable lines, invalid envelopes, batches, oversized requests and bad resource URIs", async () => {
    const raw = start();
    raw.send(INITIALIZE);
    await raw.reply(1);
    raw.send(INITIALIZED);
    raw.send("not json");
    raw.send('{"jsonrpc":"1.0","id":3,"method":"ping"}');
    raw.send('[{"jsonrpc":"2.0","id":4,"method":"ping"}]');
    raw.send(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 5,
        method: "resources/read",
        params: { uri: "didit-liveness://warnings/%E0%A4%A" },
      }),
    );
    // Over the 64 MiB stdio limit: answered from the id in its first bytes, before the line even ends.
    const oversized = `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"check_passive_liveness","arguments":{"image_base64":"${"A".repeat(64 * 1024 * 1024)}"}}}`;
    raw.send(oversized);
    raw.send('{"jsonrpc":"2.0","id":7,"method":"ping"}');
    await within(raw.reply(7), 20_000, "the ping after the bad lines");
    raw.child.stdin.end();
    const exit = await within(raw.exited, 5000, "exit after stdin EOF");

    const replies = raw.lines.map((l) => JSON.parse(l) as { id?: unknown }).filter((m) => m.id !== 1);
    expect(replies).toEqual([
      {
        jsonrpc: "2.0",
        id: null,
        error: { code: -32700, message: "Parse error: the line is not valid JSON" },
      },
      {
        jsonrpc: "2.0",
        id: 3,
        error: { code: -32600, message: 'Invalid Request: jsonrpc: Invalid input: expected "2.0"' },
      },
      {
        jsonrpc: "2.0",
        id: null,
        error: { code: -32600, message: "Invalid Request: JSON-RPC batches are not supported" },
      },
      {
        jsonrpc: "2.0",
        id: 5,
        error: {
          code: -32602,
          message: expect.stringContaining("not a valid percent-encoded warning tag"),
        },
      },
      {
        jsonrpc: "2.0",
        id: 6,
        error: { code: -32600, message: "Invalid Request: message larger than the 67108864-byte limit" },
      },
      { jsonrpc: "2.0", id: 7, result: {} },
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(raw.stderr()).not.toMatch(STACK_TRACE);
  });

  it("20,000 lines of null: 20,000 answers on stdout, a few dozen short lines on stderr", async () => {
    const raw = start();
    raw.child.stdin.write("null\n".repeat(20_000));
    raw.send('{"jsonrpc":"2.0","id":7,"method":"ping"}');
    await within(raw.reply(7), 20_000, "the ping after the flood");
    raw.child.stdin.end();
    const exit = await within(raw.exited, 5000, "exit after stdin EOF");
    const invalid = { jsonrpc: "2.0", id: null, error: { code: -32600, message: expect.any(String) } };
    const replies = raw.lines.map((l) => JSON.parse(l) as unknown);
    expect(replies.filter((r) => (r as { id: unknown }).id === null)).toHaveLength(20_000);
    expect(replies[0]).toEqual(invalid);
    expect(replies).toHaveLength(20_001);
    const stderr = raw.stderr();
    const stderrLines = stderr.split("\n").filter((l) => l !== "");
    expect(stderrLines.length).toBeLessThan(100);
    expect(stderr.length).toBeLessThan(20 * 1024);
    for (const line of stderrLines) expect(line.length).toBeLessThanOrEqual(300);
    expect(stderr).toMatch(/\d+ more like it suppressed/);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});

describe("the client closes the server's stdout but keeps stdin open", () => {
  it("the next reply meets EPIPE: the server shuts down cleanly with one line, no stack trace", async () => {
    const raw = start();
    await raw.logged("ready");
    raw.child.stdout.destroy();
    raw.send(INITIALIZE);
    const exit = await within(raw.exited, 5000, "exit after EPIPE");
    expect(exit).toEqual({ code: 0, signal: null });
    expect(raw.stderr()).not.toMatch(STACK_TRACE);
    expect(raw.stderr()).not.toMatch(/Unhandled|uncaught/i);
    expect(raw.stderr()).toContain("shutting down (stdout failed: EPIPE)");
    expect(raw.child.stdin.writableEnded).toBe(false); // we never closed stdin: the exit came from the EPIPE
  });
});
