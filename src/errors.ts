import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/** Stable error codes an agent (or a script) can branch on. */
export const ERROR_CODES = [
  "invalid_input",
  "not_configured",
  "path_not_allowed",
  "file_not_found",
  "not_an_image",
  "too_large",
  "url_not_allowed",
  "url_fetch_failed",
  "bad_request",
  "unauthorized",
  "forbidden",
  "insufficient_credits",
  "rate_limited",
  "upstream_error",
  "invalid_response",
  "timeout",
  "network_error",
  "cancelled",
  "consent_declined",
  "internal_error",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The one failure type: a stable `code`, a message saying what was wrong, and a hint saying what to do.
 * Messages and hints must never carry a key, a header, file contents or unbounded upstream text.
 */
export class ToolFailure extends Error {
  override readonly name = "ToolFailure";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint: string,
    /** Seconds the caller should wait before trying again (rate limits). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export function formatFailure(failure: ToolFailure): string {
  return `Error [${failure.code}]: ${failure.message}\nHint: ${failure.hint}`;
}

export function toolErrorResult(failure: ToolFailure): CallToolResult {
  return { isError: true, content: [{ type: "text", text: formatFailure(failure) }] };
}

/** Turns anything thrown into a ToolFailure; unknown exceptions are bugs and say so without leaking details. */
export function asToolFailure(error: unknown): ToolFailure {
  if (error instanceof ToolFailure) return error;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new ToolFailure(
    "internal_error",
    `The server hit an unexpected error (${truncate(detail, 200)}).`,
    "This is a bug in didit-passive-liveness-mcp, not in your input. Try again once; if it repeats, report it with the server's stderr log.",
  );
}

export function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}
