import { formatBytes } from "../../core/byte-size.js";
import { ToolFailure } from "../../core/errors.js";

/**
 * What this server sends as `metadata`. Didit's contract names no limit ("a JSON object, echoed back"), so these
 * are ours: a few identifying fields fit easily, and anything within them serialises, echoes and redacts safely.
 */
export const METADATA_LIMITS = {
  /** Levels of objects and arrays, the top object being level 1; 4,100 overflowed the stack after a paid upload. */
  maxDepth: 32,
  /** Keys and array elements counted over the whole value. */
  maxEntries: 1_000,
  /** Characters of the serialised JSON sent in the multipart field. */
  maxJsonChars: 64 * 1024,
} as const;

export type MetadataLimits = { readonly [K in keyof typeof METADATA_LIMITS]: number };

/**
 * Why `value` cannot be sent as metadata, or undefined when it can. An explicit stack instead of recursion, and
 * it stops at the first excess: no descent past the depth bound, no counting past the entry bound, no stringify
 * of an oversized value. The size is estimated from key and string lengths (a lower bound of the JSON length) so
 * that a huge value is refused before it is serialised; the exact length is checked after, on a bounded value.
 */
export function metadataProblem(
  value: unknown,
  limits: MetadataLimits = METADATA_LIMITS,
): string | undefined {
  if (!isPlainObject(value)) return "metadata must be a JSON object (not an array, string or null).";
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  let entries = 0;
  let chars = 2;
  const tooMany = `metadata has more than ${limits.maxEntries.toLocaleString("en-US")} keys and array elements in all.`;
  const tooBig = `metadata is over ${formatBytes(limits.maxJsonChars)} as JSON.`;
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, depth } = item;
    if (node === null || typeof node === "boolean") {
      chars += 4;
    } else if (typeof node === "number") {
      if (!Number.isFinite(node)) return "metadata holds a number that JSON cannot carry (NaN or Infinity).";
      chars += 1;
    } else if (typeof node === "string") {
      chars += node.length + 2;
    } else if (Array.isArray(node) || isPlainObject(node)) {
      if (depth >= limits.maxDepth) {
        return `metadata is nested more than ${limits.maxDepth} levels deep.`;
      }
      if (Array.isArray(node)) {
        // Checked before touching any element, so a huge array costs nothing.
        entries += node.length;
        if (entries > limits.maxEntries) return tooMany;
        chars += node.length + 1;
        for (let i = node.length - 1; i >= 0; i--) stack.push({ node: node[i], depth: depth + 1 });
      } else {
        // for-in with an early exit: no key past the bound is visited (V8 still lists the keys once, ~0.4 µs each).
        for (const key in node) {
          if (!Object.hasOwn(node, key)) continue;
          entries += 1;
          if (entries > limits.maxEntries) return tooMany;
          chars += key.length + 4;
          stack.push({ node: (node as Record<string, unknown>)[key], depth: depth + 1 });
        }
      }
    } else {
      return `metadata holds a ${typeof node}, which is not a JSON value.`;
    }
    if (chars > limits.maxJsonChars) return tooBig;
  }
  return undefined;
}

/** The metadata to send, serialised once: refused with invalid_input when it breaks a bound. */
export function validMetadata(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  const problem = metadataProblem(value);
  if (problem === undefined) {
    const size = JSON.stringify(value).length;
    if (size <= METADATA_LIMITS.maxJsonChars) return value as Record<string, unknown>;
    return refuse(
      `metadata is ${formatBytes(size)} as JSON, over the ${formatBytes(METADATA_LIMITS.maxJsonChars)} this server sends.`,
    );
  }
  return refuse(problem);
}

/**
 * Didit's echo of the metadata, as every result carries it: undefined when there is none or when it breaks the
 * bounds of what we send. It comes from the network, and a paid verdict must not be lost to it when the result is
 * serialised (an echo nested 10,000 levels deep overflowed the stack).
 */
export function echoedMetadata(echo: unknown): Record<string, unknown> | undefined {
  if (echo === undefined || echo === null || metadataProblem(echo) !== undefined) return undefined;
  return echo as Record<string, unknown>;
}

function refuse(message: string): never {
  throw new ToolFailure(
    "invalid_input",
    message,
    `Keep metadata to a few identifying fields (a JSON object, at most ${METADATA_LIMITS.maxDepth} levels deep, ${METADATA_LIMITS.maxEntries.toLocaleString("en-US")} keys and elements, ${formatBytes(METADATA_LIMITS.maxJsonChars)} as JSON); store bulky data on your side keyed by request_id. Nothing was sent.`,
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
