export const REDACTED = "[REDACTED]";

export type Redact = (text: string) => string;

/** Replaces every occurrence of each secret by value; secrets too short to be distinctive are ignored. */
export function createRedactor(secrets: readonly (string | undefined)[]): Redact {
  // Longest first, so a secret that contains another is replaced whole.
  const values = secrets
    .filter((s): s is string => typeof s === "string" && s.length >= 4)
    .sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
}
