import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  ErrorCode,
  type JSONRPCMessage,
  JSONRPCMessageSchema,
  JSONRPCNotificationSchema,
  JSONRPCRequestSchema,
  type RequestId,
  RequestIdSchema,
} from "@modelcontextprotocol/sdk/types.js";

const NEWLINE = 0x0a;
/** How much of an oversized message is scanned for its id: the envelope members come first in practice. */
const ID_SCAN_BYTES = 4096;

/**
 * Newline-delimited JSON-RPC over stdio, like the SDK's StdioServerTransport, with differences that matter for
 * multi-megabyte image arguments and hostile peers: buffering is linear (the SDK concatenates the whole pending
 * buffer on every 64 KB chunk, quadratic in the message size); a message over the limit is dropped on its own
 * instead of closing the session, and answered when its id can be read; a line that is not JSON-RPC is answered
 * with the JSON-RPC error the spec names (-32700 or -32600) so the client does not wait for its own timeout; and a
 * failing stdin or stdout (EPIPE when the client closed our stdout) closes the transport instead of crashing.
 * Each problem is reported through `onerror` as one short line that quotes none of the peer's text.
 */
export class StdioLineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Why the transport closed itself (a stream failed), for the shutdown log line. */
  closeReason?: string;

  private chunks: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;
  private started = false;
  private closed = false;

  constructor(
    private readonly stdin: Readable,
    private readonly stdout: Writable,
    private readonly maxMessageBytes: number,
  ) {}

  async start(): Promise<void> {
    if (this.started) throw new Error("StdioLineTransport already started");
    this.started = true;
    this.stdin.on("data", this.onData);
    // Kept after close too: an 'error' event without a listener would crash the process.
    this.stdin.on("error", this.onStdinError);
    this.stdout.on("error", this.onStdoutError);
  }

  private readonly onStdinError = (error: Error) => this.fail("stdin", error);
  private readonly onStdoutError = (error: Error) => this.fail("stdout", error);

  private fail(stream: "stdin" | "stdout", error: Error): void {
    if (this.closed) return;
    this.closeReason = `${stream} failed: ${(error as NodeJS.ErrnoException).code ?? error.message}`;
    void this.close();
  }

  private readonly onData = (chunk: Buffer) => {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      this.append(chunk.subarray(start, end));
      if (newline === -1) return;
      this.finishLine();
      start = newline + 1;
    }
  };

  private append(part: Buffer): void {
    if (this.discarding || part.length === 0) return;
    if (this.pendingBytes + part.length > this.maxMessageBytes) {
      // Only the head is copied, not the whole message held so far (up to the limit, 64 MB on stdio).
      const head = Buffer.concat(
        [...this.chunks, part],
        Math.min(ID_SCAN_BYTES, this.pendingBytes + part.length),
      );
      this.discarding = true;
      this.chunks = [];
      this.pendingBytes = 0;
      this.refuseOversized(readRequestId(head.toString("utf8")));
      return;
    }
    this.chunks.push(part);
    this.pendingBytes += part.length;
  }

  private refuseOversized(id: RequestId | undefined): void {
    const limit = this.maxMessageBytes;
    if (id !== undefined)
      this.reply(
        id,
        ErrorCode.InvalidRequest,
        `Invalid Request: message larger than the ${limit}-byte limit`,
      );
    this.report(
      `dropped a message larger than ${limit} bytes (${id === undefined ? "no id" : describeId(id)})`,
    );
  }

  private finishLine(): void {
    const { chunks, pendingBytes, discarding } = this;
    this.chunks = [];
    this.pendingBytes = 0;
    this.discarding = false;
    if (discarding || pendingBytes === 0) return;
    const line = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, pendingBytes))
      .toString("utf8")
      .replace(/\r$/, "");
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.reply(null, ErrorCode.ParseError, "Parse error: the line is not valid JSON");
      this.report(`refused a line of ${line.length} characters that is not JSON (-32700)`);
      return;
    }
    // Only objects can be messages; the rest is refused without a schema pass (a flood of `null` stays cheap).
    const parsed = isPlainObject(value) ? JSONRPCMessageSchema.safeParse(value) : undefined;
    if (parsed?.success) this.onmessage?.(parsed.data);
    else this.refuseInvalid(value);
  }

  /** Valid JSON that is not a JSON-RPC 2.0 message: -32600, with its id when it has a valid one. */
  private refuseInvalid(value: unknown): void {
    if (Array.isArray(value)) {
      // MCP over stdio exchanges single messages: the SDK never accepted batches, and MCP 2025-06-18 dropped them.
      this.reply(null, ErrorCode.InvalidRequest, "Invalid Request: JSON-RPC batches are not supported");
      this.report(`refused a batch of ${value.length} messages (-32600): batches are not supported`);
      return;
    }
    if (typeof value !== "object" || value === null) {
      const kind = value === null ? "null" : typeof value;
      this.reply(null, ErrorCode.InvalidRequest, `Invalid Request: expected an object, got ${kind}`);
      this.report(`refused a message that is ${kind}, not an object (-32600)`);
      return;
    }
    const parsedId = RequestIdSchema.safeParse((value as { id?: unknown }).id);
    const id = parsedId.success ? parsedId.data : null;
    if (!("method" in value) && ("result" in value || "error" in value)) {
      // Never answer a response: an error with its id could settle one of the client's own requests.
      this.report(`dropped an invalid response (${id === null ? "no valid id" : describeId(id)})`);
      return;
    }
    const schema = "id" in value ? JSONRPCRequestSchema : JSONRPCNotificationSchema;
    const reason = describeIssue(schema.safeParse(value).error?.issues[0]);
    this.reply(id, ErrorCode.InvalidRequest, `Invalid Request: ${reason}`);
    this.report(
      `refused an invalid message (${id === null ? "no valid id" : describeId(id)}, -32600): ${reason}`,
    );
  }

  private reply(id: RequestId | null, code: number, message: string): void {
    // The SDK's types have no null id, but JSON-RPC 2.0 requires it when the id could not be read.
    const response = { jsonrpc: "2.0", id, error: { code, message } } as unknown as JSONRPCMessage;
    this.send(response).catch(() => {
      // A failed write closes the transport (onStdoutError); nothing else to do here.
    });
  }

  private report(message: string): void {
    if (this.onerror === undefined) return;
    // No stack: it would say nothing about the peer's message, and capturing one per bad line is most of its cost.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    const error = new Error(message);
    Error.stackTraceLimit = limit;
    this.onerror(error);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off("data", this.onData);
    if (this.stdin.listenerCount("data") === 0) this.stdin.pause();
    this.chunks = [];
    this.pendingBytes = 0;
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed || this.stdout.destroyed) {
        reject(new Error("the stdio transport is closed"));
        return;
      }
      // Settles once the line is handed to the OS, or with the write error (EPIPE) that also closes the transport.
      this.stdout.write(`${JSON.stringify(message)}\n`, (error) => (error ? reject(error) : resolve()));
    });
  }
}

function isPlainObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeId(id: RequestId): string {
  const text = JSON.stringify(id);
  return text.length <= 40 ? `id ${text}` : `an id of ${text.length} characters`;
}

/** A schema-side description of what is wrong (path and expectation), never the peer's own text. */
function describeIssue(issue: { code: string; path: PropertyKey[]; message: string } | undefined): string {
  if (issue === undefined) return "not a JSON-RPC 2.0 request or notification";
  const where = issue.path.length > 0 ? issue.path.map(String).join(".") : "message";
  if (issue.code === "unrecognized_keys") return `${where}: unexpected members`;
  return `${where}: ${issue.message}`.slice(0, 120);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold raw U+0000-U+001F
const STRING_TOKEN = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL_TOKEN = /true|false|null/y;
const WHITESPACE = /[ \t\r\n]*/y;

/**
 * The id of an oversized request, read from the scalar members at the top of its first bytes without parsing the
 * rest. Only when the head proves it is a request (a string `method` or a `params` member after the id); a response
 * (`result`/`error`) or a head cut before the id gives undefined.
 */
export function readRequestId(head: string): RequestId | undefined {
  let at = 0;
  const token = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at;
    const match = pattern.exec(head);
    if (match === null) return undefined;
    at = pattern.lastIndex;
    return match[0];
  };
  const skipSpace = () => token(WHITESPACE);
  const punct = (char: string): boolean => {
    skipSpace();
    if (head[at] !== char) return false;
    at++;
    return true;
  };

  if (!punct("{")) return undefined;
  let id: RequestId | undefined;
  let isRequest = false;
  for (;;) {
    skipSpace();
    const keyToken = token(STRING_TOKEN);
    if (keyToken === undefined || !punct(":")) break;
    const key = JSON.parse(keyToken) as string;
    if (key === "params") {
      isRequest = true;
      break;
    }
    if (key === "result" || key === "error") return undefined;
    skipSpace();
    const valueToken = token(STRING_TOKEN) ?? token(NUMBER_TOKEN) ?? token(LITERAL_TOKEN);
    // An object or array value, or a value cut by the end of the head: stop rather than guess.
    if (valueToken === undefined || at >= head.length) break;
    const value = JSON.parse(valueToken) as unknown;
    if (key === "id") {
      const parsed = RequestIdSchema.safeParse(value);
      id = parsed.success ? parsed.data : undefined;
    }
    if (key === "method" && typeof value === "string") isRequest = true;
    if (!punct(",")) break;
  }
  return isRequest ? id : undefined;
}
