import type { IncomingMessage } from "node:http";

export type BodyResult =
  | { kind: "ok"; value: unknown }
  | { kind: "too_large" }
  | { kind: "not_json" }
  /** Not all there within `timeoutMs` (a client dripping its body holds a slot meanwhile). */
  | { kind: "timeout" }
  /** The client went away (or the connection failed) before the body ended. */
  | { kind: "closed" };

/**
 * Reads a JSON body up to `limit` bytes within `timeoutMs`; stops collecting (and says so) as soon as the limit or
 * the deadline is passed, or the connection closes.
 */
export function readJsonBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: "too_large" });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult) => {
      clearTimeout(deadline);
      // Not destroyed: the caller answers (413, 408) and decides what happens to the rest of the body.
      req.off("data", onData).off("end", onEnd).off("error", onClosed).off("close", onClosed).pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else finish({ kind: "too_large" });
    };
    const onEnd = () => {
      let value: unknown;
      try {
        value = JSON.parse(Buffer.concat(chunks, size).toString("utf8"));
      } catch {
        finish({ kind: "not_json" });
        return;
      }
      finish({ kind: "ok", value });
    };
    const onClosed = () => finish({ kind: "closed" });
    const deadline = setTimeout(() => finish({ kind: "timeout" }), timeoutMs);
    req.on("data", onData).once("end", onEnd).once("error", onClosed).once("close", onClosed);
  });
}

/**
 * Before a 413, reads and drops the rest of the body (up to `cap` bytes): a client still sending would otherwise
 * meet a closed connection (EPIPE) instead of reading the answer. Resolves false when the body passed the cap.
 */
export function discardBody(req: IncomingMessage, cap: number): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  return new Promise((resolve) => {
    let seen = 0;
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen <= cap) return;
      req.off("data", onData);
      resolve(false);
    };
    req
      .on("data", onData)
      .once("end", () => resolve(true))
      .once("error", () => resolve(false));
    req.resume();
  });
}
