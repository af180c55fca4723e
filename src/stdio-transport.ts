import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { type JSONRPCMessage, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";

const NEWLINE = 0x0a;

/**
 * Newline-delimited JSON-RPC over stdio, like the SDK's StdioServerTransport, with two differences that matter for
 * multi-megabyte image arguments: buffering is linear (the SDK concatenates the whole pending buffer on every 64 KB
 * chunk, quadratic in the message size), and a message over the limit is dropped on its own instead of closing the
 * session.
 */
export class StdioLineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private chunks: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;
  private started = false;

  constructor(
    private readonly stdin: Readable,
    private readonly stdout: Writable,
    private readonly maxMessageBytes: number,
  ) {}

  async start(): Promise<void> {
    if (this.started) throw new Error("StdioLineTransport already started");
    this.started = true;
    this.stdin.on("data", this.onData);
    this.stdin.on("error", this.onStreamError);
  }

  private readonly onStreamError = (error: Error) => this.onerror?.(error);

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
      this.discarding = true;
      this.chunks = [];
      this.pendingBytes = 0;
      this.onerror?.(new Error(`dropped an incoming message larger than ${this.maxMessageBytes} bytes`));
      return;
    }
    this.chunks.push(part);
    this.pendingBytes += part.length;
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
    let message: JSONRPCMessage;
    try {
      message = JSONRPCMessageSchema.parse(JSON.parse(line));
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.onmessage?.(message);
  }

  async close(): Promise<void> {
    this.stdin.off("data", this.onData);
    this.stdin.off("error", this.onStreamError);
    if (this.stdin.listenerCount("data") === 0) this.stdin.pause();
    this.chunks = [];
    this.pendingBytes = 0;
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.stdout.once("drain", resolve);
    });
  }
}
