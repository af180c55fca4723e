import { PassThrough, Writable } from "node:stream";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readRequestId, StdioLineTransport } from "../../src/transports/stdio/line-transport.js";

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
    expect(errors.map((e) => e.message)).toEqual(["dropped a message larger than 200 bytes (id 9)"]);
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

/** Every line written to stdout so far, parsed. */
function replies(stdout: PassThrough): unknown[] {
  const text = (stdout.read() as Buffer | null)?.toString("utf8") ?? "";
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as unknown);
}

const tick = () => new Promise((r) => setImmediate(r));

describe("StdioLineTransport answers what it cannot deliver", () => {
  it("answers an unparsable line with -32700 and id null", async () => {
    const { stdin, stdout, transport, messages, errors } = setup();
    await transport.start();
    stdin.write("not json\n");
    await tick();
    expect(replies(stdout)).toEqual([
      { jsonrpc: "2.0", id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error/) } },
    ]);
    expect(messages).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it.each([
    ["null", null],
    ["a number", null],
    ["jsonrpc 1.0 with an id", 7],
    ["a method that is not a string, with an id", "abc"],
    ["an empty batch", null],
    ["a batch", null],
  ] as const)("answers %s with -32600 (Invalid Request)", async (name, id) => {
    const lines: Record<string, string> = {
      null: "null",
      "a number": "42",
      "jsonrpc 1.0 with an id": '{"jsonrpc":"1.0","id":7,"method":"ping"}',
      "a method that is not a string, with an id": '{"jsonrpc":"2.0","id":"abc","method":1}',
      "an empty batch": "[]",
      "a batch": `[${ping(1)},${ping(2)}]`,
    };
    const { stdin, stdout, transport, messages, errors } = setup();
    await transport.start();
    stdin.write(`${lines[name]}\n`);
    await tick();
    expect(replies(stdout)).toEqual([
      { jsonrpc: "2.0", id, error: { code: -32600, message: expect.stringMatching(/^Invalid Request/) } },
    ]);
    expect(messages).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it("never answers an invalid response (a reply to a response could resolve the client's own request)", async () => {
    const { stdin, stdout, transport, errors } = setup();
    await transport.start();
    stdin.write('{"jsonrpc":"2.0","id":3,"result":"not an object"}\n');
    await tick();
    expect(replies(stdout)).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it("reports each bad message as one short line, not a pretty zod dump", async () => {
    const { stdin, transport, errors } = setup(64 * 1024);
    await transport.start();
    stdin.write(
      `null\n{"jsonrpc":"1.0","id":7,"method":"ping"}\nnot json ${"x".repeat(5000)}\n[${ping(1)}]\n{"a":"${"y".repeat(5000)}"}\n`,
    );
    await tick();
    expect(errors).toHaveLength(5);
    for (const error of errors) {
      expect(error.message).not.toContain("\n");
      expect(error.message.length).toBeLessThanOrEqual(200);
    }
  });

  it("answers an oversized request with -32600 and the id read from its first bytes", async () => {
    const { stdin, stdout, transport, messages, errors } = setup(1000);
    await transport.start();
    stdin.write(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"p":"${"A".repeat(5000)}"}}\n`);
    stdin.write(`{"jsonrpc":"2.0","id":"s-1","params":{"p":"${"A".repeat(5000)}"},"method":"x"}\n`);
    stdin.write(`${ping(10)}\n`);
    await tick();
    const error = { code: -32600, message: "Invalid Request: message larger than the 1000-byte limit" };
    expect(replies(stdout)).toEqual([
      { jsonrpc: "2.0", id: 9, error },
      { jsonrpc: "2.0", id: "s-1", error },
    ]);
    expect(messages.map((m) => ("id" in m ? m.id : undefined))).toEqual([10]);
    expect(errors.map((e) => e.message)).toEqual([
      "dropped a message larger than 1000 bytes (id 9)",
      'dropped a message larger than 1000 bytes (id "s-1")',
    ]);
  });

  it.each([
    [
      "the id comes after params",
      `{"jsonrpc":"2.0","method":"x","params":{"p":"${"A".repeat(5000)}"},"id":1}`,
    ],
    [
      "a response (result before any method)",
      `{"jsonrpc":"2.0","id":1,"result":{"p":"${"A".repeat(5000)}"}}`,
    ],
    [
      "a string value hides an id",
      `{"jsonrpc":"2.0","method":"x \\"id\\":4","params":"${"A".repeat(5000)}"}`,
    ],
    ["no id within the scanned head", `{"jsonrpc":"2.0","pad":"${"A".repeat(20_000)}","id":1,"method":"x"}`],
    ["not an object", `["${"A".repeat(5000)}"]`],
  ])("drops an oversized message with only a log line when %s", async (_name, line) => {
    const { stdin, stdout, transport, errors } = setup(1000);
    await transport.start();
    stdin.write(`${line}\n`);
    await tick();
    expect(replies(stdout)).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(["dropped a message larger than 1000 bytes (no id)"]);
  });
});

describe("StdioLineTransport on a broken pipe", () => {
  it("closes instead of crashing when stdout fails (EPIPE), and says why", async () => {
    const stdin = new PassThrough();
    const stdout = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const transport = new StdioLineTransport(stdin, stdout, 1024);
    let closed = 0;
    transport.onclose = () => closed++;
    await transport.start();
    await expect(transport.send({ jsonrpc: "2.0", id: 1, result: {} })).rejects.toThrow(/EPIPE/);
    await tick();
    expect(closed).toBe(1);
    expect(transport.closeReason).toBe("stdout failed: EPIPE");
    await expect(transport.send({ jsonrpc: "2.0", id: 2, result: {} })).rejects.toThrow(/closed/);
    await transport.close();
    expect(closed).toBe(1);
  });

  it("closes when stdin fails", async () => {
    const { stdin, transport } = setup();
    let closed = 0;
    transport.onclose = () => closed++;
    await transport.start();
    stdin.destroy(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
    await tick();
    expect(closed).toBe(1);
    expect(transport.closeReason).toBe("stdin failed: ECONNRESET");
  });
});

describe("readRequestId (the bounded scan of an oversized message's head)", () => {
  const requestId = fc.oneof(fc.string({ maxLength: 40 }), fc.integer());

  it("reads the id of any request serialised in the usual member order, from a head cut anywhere after it", () => {
    fc.assert(
      fc.property(requestId, fc.string({ maxLength: 60 }), fc.nat(5000), (id, method, cut) => {
        const text = JSON.stringify({ jsonrpc: "2.0", id, method, params: { p: "A".repeat(5000) } });
        const afterMethod = text.indexOf(',"params"');
        expect(readRequestId(text.slice(0, afterMethod + 1 + cut))).toEqual(id);
      }),
    );
  });

  it("never reads an id from a response, and never throws on arbitrary text", () => {
    fc.assert(
      fc.property(requestId, fc.jsonValue(), (id, result) => {
        expect(readRequestId(JSON.stringify({ jsonrpc: "2.0", id, result }))).toBeUndefined();
        expect(
          readRequestId(JSON.stringify({ jsonrpc: "2.0", id, error: { code: 1, message: "x" } })),
        ).toBeUndefined();
      }),
    );
    fc.assert(fc.property(fc.string(), (text) => void readRequestId(text)));
  });
});
