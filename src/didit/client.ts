import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { Pool } from "undici";
import type { z } from "zod";
import { ToolFailure, truncate } from "../core/errors.js";
import { createRedactor } from "../core/redact.js";
import type { LoadedImage } from "../images/load-image.js";
import { MAY_HAVE_BEEN_BILLED_HINT, mapHttpError } from "./error-mapping.js";
import { type DiditFaceMatchResponse, diditFaceMatchResponseSchema } from "./face-match-schema.js";
import { encodeMultipart, type MultipartBody } from "./multipart.js";
import { type DiditLivenessResponse, diditLivenessResponseSchema } from "./response-schema.js";
import type { SharedBackoff } from "./shared-backoff.js";

export const LIVENESS_PATH = "/v3/passive-liveness/";
export const FACE_MATCH_PATH = "/v3/face-match/";
export const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_RETRIES = 2;
/** Longest single wait we honour from Retry-After, and for all retries of one call, well under a client's 60 s. */
const MAX_RETRY_WAIT_MS = 10_000;
const MAX_TOTAL_RETRY_WAIT_MS = 20_000;
/** Longest pause a 429 starts for the callers sharing a backoff: Didit's window is one minute. */
const MAX_SHARED_PAUSE_MS = 60_000;
const CONNECT_RETRY_DELAYS_MS = [250, 1000];
const CONNECT_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);
/** undici refusing to build the request locally (a header value, the URL): nothing left the machine. */
const LOCAL_REQUEST_ERROR_CODES = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"]);

/** The optional Didit fields, sent under the API's own names. */
export interface LivenessParams {
  face_liveness_score_decline_threshold?: number | undefined;
  rotate_image?: boolean | undefined;
  save_api_request?: boolean | undefined;
  vendor_data?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/** The optional face-match fields, sent under the API's own names. */
export interface FaceMatchParams {
  face_match_score_decline_threshold?: number | undefined;
  rotate_image?: boolean | undefined;
  save_api_request?: boolean | undefined;
  vendor_data?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface CallOptions {
  /** The client's cancellation; combined with the per-call deadline. */
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
}

export interface DiditClient {
  checkPassiveLiveness(
    image: LoadedImage,
    params: LivenessParams,
    call?: CallOptions,
  ): Promise<DiditLivenessResponse>;
  /** Compares the selfie (user_image) with the reference (ref_image); one credit per answered call. */
  matchFaces(
    userImage: LoadedImage,
    refImage: LoadedImage,
    params: FaceMatchParams,
    call?: CallOptions,
  ): Promise<DiditFaceMatchResponse>;
  close(): Promise<void>;
}

/** The HTTP client: a DiditClient, plus doctor's key check (the sandbox and the wrappers have no use for it). */
export interface DiditHttpClient extends DiditClient {
  /**
   * Proves the key without spending a credit: a POST to the liveness endpoint with no image, which Didit refuses
   * after checking the key and before processing (only a 200 is billed).
   */
  checkKey(call?: CallOptions): Promise<KeyCheck>;
}

/** The key check's reading of Didit's answer; `message` is bounded and never quotes a 401/403 body. */
export interface KeyCheck {
  /** accepted: the key works; refused: wrong, revoked or not allowed; billed: a 2xx, which Didit charges. */
  verdict: "accepted" | "refused" | "no_credits" | "rate_limited" | "billed" | "unexpected";
  status: number;
  message: string;
  hint?: string | undefined;
}

export interface DiditClientOptions {
  /** API origin, optionally with a path prefix (a reverse proxy); the endpoint is posted to under it. */
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  /** Injected so tests of the retry policy do not have to wait. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A pause shared with other callers: every request waits for it, and a 429 starts it (batch mode). */
  backoff?: SharedBackoff | undefined;
}

/** undici is loaded on the first check, not at start-up: it is a third of the server's module-load time. */
let undiciModule: Promise<typeof import("undici")> | undefined;
const loadUndici = () => {
  undiciModule ??= import("undici").catch((error: unknown) => {
    undiciModule = undefined;
    throw error;
  });
  return undiciModule;
};

export function createDiditClient(options: DiditClientOptions): DiditHttpClient {
  // One keep-alive pool for every call: the TLS handshake is paid once, not per check.
  let pool: Pool | undefined;
  // Memoized as a promise: concurrent first calls must share one pool, not race to create several.
  let poolReady: Promise<Pool> | undefined;
  const base = new URL(options.baseUrl);
  const getPool = () => {
    poolReady ??= loadUndici()
      // A pool is per origin; a path prefix in the base URL goes into each request's path instead.
      .then((undici) => {
        pool = new undici.Pool(base.origin, { connections: 16, keepAliveTimeout: 4_000, pipelining: 1 });
        return pool;
      })
      .catch((error: unknown) => {
        // Never keep a failed attempt: the next call must be able to try again.
        poolReady = undefined;
        throw error;
      });
    return poolReady;
  };
  const prefix = base.pathname.replace(/\/+$/, "");
  // Upstream text is redacted as soon as it is read, before anything parses, bounds or quotes it.
  const redact = createRedactor([options.apiKey]);
  const wait = options.wait ?? ((ms, signal) => sleep(ms, undefined, { signal }));
  const core: RequestCore = { options, prefix, redact, wait, getPool };

  /** exchange() for a verdict: any answer but a 2xx becomes its mapped failure; returns the 200 body. */
  async function post(
    endpoint: string,
    buildBody: () => MultipartBody,
    call: CallOptions,
    uploading: string,
  ): Promise<string> {
    const { status, bodyText, retryAfterS } = await exchange(core, endpoint, buildBody, call, uploading);
    if (status < 200 || status >= 300) throw mapHttpError(status, bodyText, retryAfterS, endpoint);
    return bodyText;
  }

  return {
    async checkPassiveLiveness(image, params, call = {}) {
      const body = await post(LIVENESS_PATH, () => buildForm(image, params), call, "the image");
      return parseLivenessResponse(body);
    },
    async matchFaces(userImage, refImage, params, call = {}) {
      const body = await post(
        FACE_MATCH_PATH,
        () => buildFaceMatchForm(userImage, refImage, params),
        call,
        "both images",
      );
      return parseFaceMatchResponse(body);
    },
    async checkKey(call = {}) {
      // No user_image: Didit (DRF) checks the key before the body, and this body can never be processed.
      const { status, bodyText, retryAfterS } = await exchange(
        core,
        LIVENESS_PATH,
        () => encodeMultipart([["save_api_request", "false"]], []),
        call,
        "a request without an image",
      );
      return classifyKeyCheck(status, bodyText, retryAfterS);
    },
    close: async () => pool?.close(),
  };
}

/** What every request of one client shares: its options, path prefix, redactor, clock and keep-alive pool. */
interface RequestCore {
  options: DiditClientOptions;
  prefix: string;
  redact: (text: string) => string;
  wait: (ms: number, signal: AbortSignal) => Promise<void>;
  getPool: () => Promise<Pool>;
}

/** One POST with the shared deadline, cancellation and retry policy; returns Didit's final status and body. */
async function exchange(
  core: RequestCore,
  endpoint: string,
  buildBody: () => MultipartBody,
  call: CallOptions,
  uploading: string,
): Promise<{ status: number; bodyText: string; retryAfterS?: number | undefined }> {
  const path = `${core.prefix}${endpoint}`;
  const deadlineAt = Date.now() + core.options.timeoutMs;
  const deadline = AbortSignal.timeout(core.options.timeoutMs);
  const signal = call.signal ? AbortSignal.any([deadline, call.signal]) : deadline;
  const aborted = () => abortFailure(call, core.options.timeoutMs);
  /** Waits before the next attempt; the wait ends early, as a failure, when the call is aborted. */
  const retryAfter = async (ms: number) => {
    await core.wait(ms, signal).catch(() => undefined);
    if (signal.aborted) throw aborted();
  };

  let waitedMs = 0;
  for (let attempt = 0; ; attempt++) {
    call.onProgress?.(
      attempt === 0 ? `Uploading ${uploading} to Didit` : `Uploading again (attempt ${attempt + 1})`,
    );
    if (core.options.backoff) {
      await core.options.backoff.ready(signal, deadlineAt).catch((error: unknown) => {
        // A pause longer than this call can wait: refused before sending. An abort is reported below.
        if (error instanceof ToolFailure) throw error;
      });
      if (signal.aborted) throw aborted();
    }
    const sent = await send(core, path, buildBody, signal, attempt, call);
    if ("retryIn" in sent) {
      await retryAfter(sent.retryIn);
      continue;
    }
    const { response } = sent;
    call.onProgress?.("Waiting for Didit's verdict");
    let bodyText: string;
    try {
      bodyText = core.redact(await readBounded(response.body, MAX_RESPONSE_BYTES));
    } catch (error) {
      if (signal.aborted) throw aborted();
      if (error instanceof ToolFailure) throw error;
      throw networkFailure(errorCode(error), false);
    }
    const status = response.statusCode;
    if (status !== 429) return { status, bodyText };
    const retryAfterS =
      parseRetryAfter(response.headers["retry-after"]) ??
      parseRateLimitReset(response.headers["x-ratelimit-reset"]);
    const waitMs = (retryAfterS ?? 1) * 1000;
    core.options.backoff?.pause(Math.min(waitMs, MAX_SHARED_PAUSE_MS));
    if (!mayRetryRateLimit(attempt, waitMs, waitedMs)) return { status, bodyText, retryAfterS };
    // A 429 is refused before processing, so it was not billed: waiting and resending is safe.
    call.onProgress?.(`Didit is rate limiting; retrying in ${Math.ceil(waitMs / 1000)} s`);
    waitedMs += waitMs;
    await retryAfter(waitMs);
  }
}

/** One attempt's request: Didit's response, or how long to wait before retrying a connection nothing reached. */
async function send(
  core: RequestCore,
  path: string,
  buildBody: () => MultipartBody,
  signal: AbortSignal,
  attempt: number,
  call: CallOptions,
): Promise<{ response: Awaited<ReturnType<Pool["request"]>> } | { retryIn: number }> {
  let activePool: Pool;
  try {
    activePool = await core.getPool();
  } catch (error) {
    throw localFailure(error, core.redact);
  }
  try {
    const form = buildBody();
    const response = await activePool.request({
      path,
      method: "POST",
      headers: {
        "x-api-key": core.options.apiKey,
        accept: "application/json",
        "content-type": form.contentType,
        "content-length": String(form.length),
      },
      body: Readable.from(form.chunks),
      signal,
    });
    return { response };
  } catch (error) {
    if (signal.aborted) throw abortFailure(call, core.options.timeoutMs);
    const code = errorCode(error);
    if (code !== undefined && LOCAL_REQUEST_ERROR_CODES.has(code)) throw localFailure(error, core.redact);
    const retryIn = CONNECT_RETRY_DELAYS_MS[attempt];
    if (code !== undefined && CONNECT_ERROR_CODES.has(code) && retryIn !== undefined) {
      // Nothing reached Didit, so nothing was billed: safe to try again.
      call.onProgress?.(`Could not connect to Didit (${code}); retrying in ${(retryIn / 1000).toFixed(1)} s`);
      return { retryIn };
    }
    throw networkFailure(code, CONNECT_ERROR_CODES.has(code ?? ""));
  }
}

/** A cancelled call (the client's signal) or the deadline: either may have been billed. */
function abortFailure(call: CallOptions, timeoutMs: number): ToolFailure {
  return call.signal?.aborted
    ? new ToolFailure("cancelled", "The check was cancelled by the client.", MAY_HAVE_BEEN_BILLED_HINT)
    : new ToolFailure(
        "timeout",
        `Didit did not answer within ${timeoutMs} ms.`,
        `${MAY_HAVE_BEEN_BILLED_HINT} If timeouts repeat, raise DIDIT_TIMEOUT_MS.`,
      );
}

/** A 429 is waited out and resent while the attempts, this wait and the total wait stay within their bounds. */
function mayRetryRateLimit(attempt: number, waitMs: number, waitedMs: number): boolean {
  return attempt < MAX_RETRIES && waitMs <= MAX_RETRY_WAIT_MS && waitedMs + waitMs <= MAX_TOTAL_RETRY_WAIT_MS;
}

/** What Didit's answer to a request without an image says about the key (see docs/troubleshooting.md). */
export function classifyKeyCheck(status: number, bodyText: string, retryAfterS?: number): KeyCheck {
  if (status >= 200 && status < 300) {
    return {
      verdict: "billed",
      status,
      message: `Didit answered ${status} to a request without an image: the key works, but a credit may have been spent.`,
    };
  }
  if (status === 400 && namesField(bodyText, "user_image")) {
    return {
      verdict: "accepted",
      status,
      message: `Didit accepted the key and refused the request for its missing image (HTTP ${status}); nothing was processed and no credit was spent`,
    };
  }
  const failure = mapHttpError(status, bodyText, retryAfterS, LIVENESS_PATH);
  const verdict = KEY_VERDICTS[failure.code];
  // Other hints are about a check that may have been billed, which a request without an image cannot be.
  if (verdict === undefined) return { verdict: "unexpected", status, message: failure.message };
  return { verdict, status, message: failure.message, hint: failure.hint };
}

const KEY_VERDICTS: Partial<Record<string, KeyCheck["verdict"]>> = {
  unauthorized: "refused",
  forbidden: "refused",
  insufficient_credits: "no_credits",
  rate_limited: "rate_limited",
};

/** A DRF field-keyed error body that has an entry for `field`. */
function namesField(bodyText: string, field: string): boolean {
  try {
    const body: unknown = JSON.parse(bodyText);
    return typeof body === "object" && body !== null && !Array.isArray(body) && field in body;
  } catch {
    return false;
  }
}

function buildFaceMatchForm(userImage: LoadedImage, refImage: LoadedImage, params: FaceMatchParams) {
  const fields: [string, string][] = [];
  if (params.face_match_score_decline_threshold !== undefined) {
    fields.push(["face_match_score_decline_threshold", String(params.face_match_score_decline_threshold)]);
  }
  fields.push(...optionalFields(params));
  return encodeMultipart(fields, [
    {
      field: "user_image",
      filename: userImage.filename,
      contentType: userImage.mime,
      bytes: userImage.bytes,
    },
    // A distinct generic name, so the two parts cannot be confused; no local file name leaves the machine.
    {
      field: "ref_image",
      filename: refImage.filename.replace(/^image\./, "ref."),
      contentType: refImage.mime,
      bytes: refImage.bytes,
    },
  ]);
}

/** The fields both endpoints share, in the order Didit documents them. */
function optionalFields(params: FaceMatchParams | LivenessParams): [string, string][] {
  const fields: [string, string][] = [];
  if (params.rotate_image !== undefined) fields.push(["rotate_image", String(params.rotate_image)]);
  if (params.save_api_request !== undefined)
    fields.push(["save_api_request", String(params.save_api_request)]);
  if (params.vendor_data !== undefined) fields.push(["vendor_data", params.vendor_data]);
  if (params.metadata !== undefined) fields.push(["metadata", JSON.stringify(params.metadata)]);
  return fields;
}

function buildForm(image: LoadedImage, params: LivenessParams) {
  const fields: [string, string][] = [];
  if (params.face_liveness_score_decline_threshold !== undefined) {
    fields.push([
      "face_liveness_score_decline_threshold",
      String(params.face_liveness_score_decline_threshold),
    ]);
  }
  fields.push(...optionalFields(params));
  return encodeMultipart(fields, {
    field: "user_image",
    filename: image.filename,
    contentType: image.mime,
    bytes: image.bytes,
  });
}

export function parseLivenessResponse(bodyText: string): DiditLivenessResponse {
  return parseResponse(diditLivenessResponseSchema, bodyText);
}

export function parseFaceMatchResponse(bodyText: string): DiditFaceMatchResponse {
  return parseResponse(diditFaceMatchResponseSchema, bodyText);
}

function parseResponse<T>(schema: z.ZodType<T>, bodyText: string): T {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    throw new ToolFailure(
      "invalid_response",
      `Didit answered 200 with a body that is not JSON: "${truncate(bodyText, 200)}".`,
      MAY_HAVE_BEEN_BILLED_HINT,
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") : "the top level";
    throw new ToolFailure(
      "invalid_response",
      `Didit answered 200 with an unexpected shape (${where}: ${truncate(issue?.message ?? "invalid", 120)}).`,
      MAY_HAVE_BEEN_BILLED_HINT,
    );
  }
  return parsed.data;
}

async function readBounded(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  limit: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new ToolFailure(
        "invalid_response",
        `Didit's answer is larger than ${limit / 1024 / 1024} MB; a result is a few KB.`,
        MAY_HAVE_BEEN_BILLED_HINT,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  // A blank header is no header (Number("") would read it as 0 s).
  if (raw === undefined || raw.trim() === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * X-RateLimit-Reset, used when a 429 has no Retry-After: seconds until the window resets, or (a value past 10^9)
 * the epoch second it resets at; the contract documents the header, not its form, so both are read.
 */
function parseRateLimitReset(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const seconds = raw === undefined || raw.trim() === "" ? Number.NaN : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) return undefined;
  return Math.ceil(seconds > 1e9 ? Math.max(0, seconds - Date.now() / 1000) : seconds);
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The request could not even be built (undici refused the URL or a header): a configuration problem, never billed. */
function localFailure(error: unknown, redact: (text: string) => string): ToolFailure {
  const why = [errorCode(error), error instanceof Error ? truncate(redact(error.message), 120) : ""]
    .filter(Boolean)
    .join(": ");
  return new ToolFailure(
    "not_configured",
    `The request to Didit could not be built${why ? ` (${why})` : ""}; nothing was sent.`,
    "Check DIDIT_API_KEY (printable characters only, no spaces or line breaks) and DIDIT_BASE_URL, then restart the server.",
  );
}

function networkFailure(code: string | undefined, beforeSending: boolean): ToolFailure {
  return new ToolFailure(
    "network_error",
    `The connection to Didit failed${code ? ` (${code})` : ""}${beforeSending ? " before the image was sent" : ""}.`,
    beforeSending
      ? "Check the machine's network access and DIDIT_BASE_URL, then retry."
      : `${MAY_HAVE_BEEN_BILLED_HINT} Check the network if it repeats.`,
  );
}
