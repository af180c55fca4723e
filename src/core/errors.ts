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
 * What a failure says about the run it happened in: `input` the file or bytes were wrong, found before anything was
 * sent; `url` the URL was refused or could not be fetched; `consent` the spend was declined, nothing sent; `stop` it
 * would repeat for every image (configuration, account, rate limit, cancellation); `call` this one call failed.
 */
export type ErrorKind = "input" | "url" | "consent" | "stop" | "call";

/** Every code's kind, once: the CLI's exit codes, batch's and calibrate's stop rules all read it. */
export const ERROR_KINDS: Readonly<Record<ErrorCode, ErrorKind>> = Object.freeze({
  invalid_input: "input",
  not_configured: "stop",
  path_not_allowed: "input",
  file_not_found: "input",
  not_an_image: "input",
  too_large: "input",
  url_not_allowed: "url",
  url_fetch_failed: "url",
  bad_request: "call",
  unauthorized: "stop",
  forbidden: "stop",
  insufficient_credits: "stop",
  rate_limited: "stop",
  upstream_error: "call",
  invalid_response: "call",
  timeout: "call",
  network_error: "call",
  cancelled: "stop",
  consent_declined: "consent",
  internal_error: "call",
});

/** The command line must change (exit 2): the input, its URL, or a declined spend; nothing was checked. */
export function isInputFailure(code: ErrorCode): boolean {
  const kind = ERROR_KINDS[code];
  return kind === "input" || kind === "url" || kind === "consent";
}

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

/**
 * One call's point of no return, made explicit: `started` is set just before the image goes to Didit. From then on
 * the check may have been processed and billed, so a failure of ours must not invite a blind retry.
 */
export interface UploadState {
  started: boolean;
}

export function createUploadState(): UploadState {
  return { started: false };
}

/** The hint of any failure of ours once the upload has started (Didit's own answers are mapped by the client). */
export const BILLED_INTERNAL_ERROR_HINT =
  "This is a bug in didit-passive-liveness-mcp, not in your input, and it happened after the image was sent: the check may have been billed. Do not resend it automatically; report it with the server's stderr log.";

/**
 * Turns anything thrown into a ToolFailure; unknown exceptions are bugs and say so without leaking details. Once
 * `upload` has started, a bug's hint says the check may have been billed instead of inviting another try. Failures
 * the Didit client raised keep their own hint: it knows whether Didit processed the request.
 */
export function asToolFailure(error: unknown, upload?: UploadState): ToolFailure {
  if (error instanceof ToolFailure && error.code !== "internal_error") return error;
  const afterUpload = upload?.started === true;
  if (error instanceof ToolFailure && (!afterUpload || error.hint === BILLED_INTERNAL_ERROR_HINT))
    return error;
  const detail =
    error instanceof ToolFailure
      ? error.message
      : `The server hit an unexpected error (${truncate(describeThrown(error), 200)}).`;
  return new ToolFailure(
    "internal_error",
    detail,
    afterUpload
      ? BILLED_INTERNAL_ERROR_HINT
      : "This is a bug in didit-passive-liveness-mcp, not in your input. Try again once; if it repeats, report it with the server's stderr log.",
  );
}

function describeThrown(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    return "an exception that cannot be described";
  }
}

export function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}
