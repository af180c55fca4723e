import { PassThrough } from "node:stream";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { StdioLineTransport } from "../../src/stdio-transport.js";

function setup(max = 1024) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const transport = new StdioLineTransport(stdin, stdout, max);
  const messages: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  transport.onmessage = (m) => messages.push(m);
  transport.onerror = (e) => errors.push(e);
  return { stdin, stdout, transport, messages, errors };
}

const ping = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "ping" });

describe("StdioLineTransport", () => {
  it("splits messages across and within chunks, with LF or CRLF", async () => {
    const { stdin, transport, messages, errors } = setup();
    await transport.start();
    const text = `${ping(1)}\n${ping(2)}\r\n${ping(3)}\n`;
    // Feed in awkward pieces: 7 bytes at a time.
    for (let i = 0; i < text.length; i += 7) stdin.write(Buffer.from(text.slice(i, i + 7)));
    await new Promise((r) => setImmediate(r));
    expect(messages.map((m) => ("id" in m ? m.id : undefined))).toEqual([1, 2, 3]);
    expect(errors).toEqual([]);
  });

  it("drops an oversized message alone and keeps the session", async () => {
    const { stdin, transport, messages, errors } = setup(200);
    await transport.start();
    stdin.write(`{"jsonrpc":"2.0","id":9,"method":"x","params":{"p":"${"A".repeat(500)}"}}\n`);
    stdin.write(`${ping(10)}\n`);
    await new Promise((r) => setImmediate(r));
    expect(messages.map((m) => ("id" in m ? m.id : undefined))).toEqual([10]);
    expect(errors.map((e) => e.message)).toEqual(["dropped an incoming message larger than 200 bytes"]);
  });

  it("reports a line that is not JSON-RPC and goes on", async () => {
    const { stdin, transport, messages, errors } = setup();
    await transport.start();
    stdin.write(`not json\n{"hello":1}\n${ping(4)}\n`);
    await new Promise((r) => setImmediate(r));
    expect(messages).toHaveLength(1);
    expect(errors).toHaveLength(2);
  });

  it("writes one JSON line per message", async () => {
    const { stdout, transport } = setup();
    await transport.start();
    await transport.send({ jsonrpc: "2.0", id: 1, result: {} });
    expect(stdout.read()?.toString()).toBe('{"jsonrpc":"2.0","id":1,"result":{}}\n');
  });

  it("handles a multi-megabyte line in linear time", async () => {
    const { stdin, transport, messages } = setup(64 * 1024 * 1024);
    await transport.start();
    const line = `{"jsonrpc":"2.0","id":1,"method":"x","params":{"p":"${"A".repeat(12 * 1024 * 1024)}"}}\n`;
    const buffer = Buffer.from(line);
    for (let i = 0; i < buffer.length; i += 65_536) stdin.write(buffer.subarray(i, i + 65_536));
    await new Promise((r) => setImmediate(r));
    expect(messages).toHaveLength(1);
  });
});
