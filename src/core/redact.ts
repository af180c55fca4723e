export const REDACTED = "[REDACTED]";

/** A run of this many characters of a secret counts as the secret: a key cut anywhere still gives most of it away. */
export const SECRET_FRAGMENT_CHARS = 8;
/** Secrets shorter than this are not distinctive enough to redact (they would hit ordinary words). */
const MIN_SECRET_CHARS = 4;

export type Redact = (text: string) => string;

/**
 * Replaces each secret, and every run of SECRET_FRAGMENT_CHARS or more of its characters (a prefix, a suffix or a
 * middle left by a cut), by REDACTED. Whitespace between the characters does not hide them: text is matched with
 * its whitespace skipped, so a key split by a newline or re-flowed by `truncate` is still found.
 */
export function createRedactor(secrets: readonly (string | undefined)[]): Redact {
  // Longest first, so a secret that contains another is replaced whole.
  const values = secrets
    .filter((s): s is string => typeof s === "string" && s.length >= MIN_SECRET_CHARS)
    .sort((a, b) => b.length - a.length);
  // Every window of each secret (whitespace removed), grouped by window length (the whole secret when shorter).
  const windows = new Map<number, Set<string>>();
  for (const value of values) {
    const squeezed = value.replace(/\s+/g, "");
    if (squeezed.length < MIN_SECRET_CHARS) continue;
    const width = Math.min(SECRET_FRAGMENT_CHARS, squeezed.length);
    const set = windows.get(width) ?? new Set<string>();
    for (let i = 0; i + width <= squeezed.length; i++) set.add(squeezed.slice(i, i + width));
    windows.set(width, set);
  }
  if (windows.size === 0) return (text) => text;
  return (text) => {
    let out = text;
    // Whole occurrences first, so each keeps its own marker.
    for (const secret of values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return redactFragments(out, windows);
  };
}

function redactFragments(text: string, windows: ReadonlyMap<number, ReadonlySet<string>>): string {
  // The text without whitespace, and where each of its characters sits in the original (identity when none).
  const hasWhitespace = /\s/.test(text);
  let squeezed = text;
  let positions: Int32Array | undefined;
  if (hasWhitespace) {
    positions = new Int32Array(text.length);
    const codes = new Uint16Array(text.length);
    let length = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (isWhitespace(code)) continue;
      positions[length] = i;
      codes[length++] = code;
    }
    // Chunked: a regex replace over a text with many short words takes ~20x longer.
    const parts: string[] = [];
    for (let i = 0; i < length; i += 8192) {
      // apply, not spread: spreading a typed array goes through its iterator, ~10x slower here.
      parts.push(
        String.fromCharCode.apply(null, codes.subarray(i, Math.min(length, i + 8192)) as unknown as number[]),
      );
    }
    squeezed = parts.join("");
  }
  const at = (i: number) => (positions ? (positions[i] as number) : i);
  let covered: Uint8Array | undefined;
  for (const [width, set] of windows) {
    for (const window of set) {
      // Native substring search per window is far faster than a JS loop over every position of a 1 MB body.
      for (let i = squeezed.indexOf(window); i !== -1; i = squeezed.indexOf(window, i + 1)) {
        covered ??= new Uint8Array(text.length);
        // From the window's first character to its last, whitespace inside included.
        covered.fill(1, at(i), at(i + width - 1) + 1);
      }
    }
  }
  if (covered === undefined) return text;
  const out: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (covered[i] === 1 && (i === 0 || covered[i - 1] === 0)) {
      out.push(text.slice(from, i), REDACTED);
    } else if (covered[i] === 0 && i > 0 && covered[i - 1] === 1) {
      from = i;
    }
  }
  if (covered[text.length - 1] === 0) out.push(text.slice(from));
  return out.join("");
}

/** The characters `\s` matches, without a regex call per character. */
function isWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}
