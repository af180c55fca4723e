/** Remote mode's shared state (DIDIT_REDIS_URL): where the store is, and what a process may do while it is down. */
export interface SharedStoreConfig {
  /** The connection string as given; never logged, echoed or put in a metric. */
  readonly url: string;
  /** The password in `url` (as written and decoded), for the redactor. */
  readonly secrets: readonly string[];
  /** DIDIT_REDIS_FALLBACK_PER_MINUTE: each process's own budget while the store is down; undefined: refuse. */
  readonly fallbackPerMinute: number | undefined;
}

const SETTING = "DIDIT_REDIS_URL";

/**
 * Checks the connection string at start-up, so a typo stops the server (exit 2) instead of refusing every check.
 * Messages say what is wrong and never quote the value: it may hold a password.
 */
export function parseSharedStore(
  url: string | undefined,
  fallbackPerMinute: number | undefined,
): { ok: true; store: SharedStoreConfig | undefined } | { ok: false; error: string } {
  const raw = url?.trim() ?? "";
  if (raw === "") {
    if (fallbackPerMinute !== undefined) {
      return {
        ok: false,
        error: `DIDIT_REDIS_FALLBACK_PER_MINUTE only applies with ${SETTING}; set both or neither`,
      };
    }
    return { ok: true, store: undefined };
  }
  if (!URL.canParse(raw)) {
    return {
      ok: false,
      error: `${SETTING} is not a valid URL; use redis://[user:password@]host[:port][/db] or rediss://... for TLS`,
    };
  }
  const parsed = new URL(raw);
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return { ok: false, error: `${SETTING} must start with redis:// or rediss:// (TLS)` };
  }
  if (parsed.hostname === "") return { ok: false, error: `${SETTING} has no host name` };
  if (!/^(\/\d{0,2})?$/.test(parsed.pathname)) {
    return { ok: false, error: `${SETTING}'s path must be a database number (/0 to /99) or nothing` };
  }
  if (parsed.hash !== "") return { ok: false, error: `${SETTING} must not contain a fragment (#...)` };
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  };
  // The password only: the whole string's 8-character windows (see src/core/redact.ts) would also blank out host names
  // and addresses in unrelated messages; nothing of ours prints the string anyway.
  const secrets = [parsed.password, decode(parsed.password)];
  return {
    ok: true,
    store: Object.freeze({
      url: raw,
      secrets: Object.freeze([...new Set(secrets.filter((s) => s !== ""))]),
      fallbackPerMinute,
    }),
  };
}
