import type { IncomingMessage } from "node:http";

export type BodyResult = { kind: "ok"; value: unknown } | { kind: "too_large" } | { kind: "not_json" };

/** Reads a JSON body up to `limit` bytes; stops collecting (and says so) as soon as the limit is passed. */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: "too_large" });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      // Not destroyed: the caller answers 413 and drains the rest (discardBody) so the client reads the answer.
      req.off("data", onData).off("end", onEnd).off("error", reject).pause();
      resolve({ kind: "too_large" });
    };
    const onEnd = () => {
      try {
        resolve({ kind: "ok", value: JSON.parse(Buffer.concat(chunks, size).toString("utf8")) });
      } catch {
        resolve({ kind: "not_json" });
      }
    };
    req.on("data", onData).once("end", onEnd).once("error", reject);
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
