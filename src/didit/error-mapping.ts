import { ToolFailure, truncate } from "../core/errors.js";

const EXCERPT_CHARS = 300;
/** The hint of a failure after the image may have reached Didit: never invite a blind retry. */
export const MAY_HAVE_BEEN_BILLED_HINT =
  "The check may have reached Didit and been billed, so it was not resent automatically; retry once only if you still need a verdict.";

/**
 * Maps a non-2xx Didit answer to a ToolFailure. The caller redacts the body before it gets here; it is only ever
 * quoted bounded and flattened, and never for 401/403, where an echo of the credentials is likeliest.
 */
export function mapHttpError(
  status: number,
  bodyText: string,
  retryAfterSeconds?: number,
  endpoint = "/v3/passive-liveness/",
): ToolFailure {
  const body = parseJson(bodyText);
  const detail = describeBody(body, bodyText);
  const product = endpoint.includes("face-match") ? "Face Match" : "Passive Liveness";
  switch (true) {
    case status === 400:
      return new ToolFailure(
        "bad_request",
        sentence(`Didit rejected the request (400): ${detail}`),
        hintForBadRequest(body),
      );
    case status === 401:
      return new ToolFailure(
        "unauthorized",
        "Didit did not accept the API key (401).",
        `Set DIDIT_API_KEY to a valid, unrevoked key of an application with ${product} enabled, from the Didit Business Console (API & Webhooks), and restart the server.`,
      );
    case status === 402 || (status === 403 && mentionsCredits(bodyText)):
      return new ToolFailure(
        "insufficient_credits",
        status === 403
          ? "Didit refused the check for lack of credits (403)."
          : sentence(`Didit refused the check for lack of credits (${status}): ${detail}`),
        "Top up credits in the Didit Business Console (Billing), then retry. Nothing was processed.",
      );
    case status === 403:
      // Didit's current docs answer a wrong or revoked key with this 403 ("You do not have permission to perform
      // this action."), not a 401: say so first. The body itself is never quoted.
      return new ToolFailure(
        "forbidden",
        `Didit refused the API key for ${product} (403).`,
        `The key is most likely wrong or revoked (Didit answers 403 for both), or its application cannot use ${product}: set DIDIT_API_KEY to the current key from the Didit Business Console (API & Webhooks) and restart the server. If the key is right, check that this machine's IP is not blocked by the application's IP allow-list.`,
      );
    case status === 404:
      return new ToolFailure(
        "upstream_error",
        `Didit answered 404: the ${endpoint.includes("face-match") ? "face-match" : "passive-liveness"} endpoint was not found at the configured origin.`,
        `Check DIDIT_BASE_URL (default https://verification.didit.me): checks are posted to DIDIT_BASE_URL${endpoint}, so give the API origin, plus only the path prefix a proxy adds.`,
      );
    case status === 413:
      return new ToolFailure(
        "too_large",
        "Didit refused the upload as too large (413).",
        "Send an image of at most 5 MB; 1-2 megapixels is plenty.",
      );
    case status === 429:
      return new ToolFailure(
        "rate_limited",
        `Didit rate-limited this API key (429)${retryAfterSeconds !== undefined ? `; it asks to wait ${retryAfterSeconds} s` : ""}.`,
        `Wait ${retryAfterSeconds ?? 60} seconds before the next check; Didit allows about 300 checks per minute per key.`,
        retryAfterSeconds,
      );
    case status >= 500:
      return new ToolFailure(
        "upstream_error",
        sentence(`Didit had a server error (${status}): ${detail}`),
        MAY_HAVE_BEEN_BILLED_HINT,
      );
    default:
      return new ToolFailure(
        "upstream_error",
        sentence(`Didit answered with unexpected status ${status}: ${detail}`),
        "Retry later; if it persists, check Didit's status page.",
      );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Ends a message with one full stop: quoted upstream text often brings its own. */
function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function mentionsCredits(text: string): boolean {
  return /credit|balance|payment|funds/i.test(text);
}

/** The message of a body that is not field-keyed: DRF's {detail, code}, or Didit's own {error}. */
function nonFieldMessage(body: unknown): string | undefined {
  if (!body || typeof body !== "object" || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.detail === "string") {
    const code = typeof record.code === "string" ? ` (code ${record.code})` : "";
    return `${record.detail}${code}`;
  }
  return typeof record.error === "string" ? record.error : undefined;
}

/** DRF bodies: a field-keyed map, a bare array, {detail, code} or {error}. Name the fields, quote bounded messages. */
function describeBody(body: unknown, raw: string): string {
  if (Array.isArray(body)) return truncate(body.map(String).join("; "), EXCERPT_CHARS) || "no details";
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    const message = nonFieldMessage(body);
    if (message !== undefined) return truncate(message, EXCERPT_CHARS);
    const parts = Object.entries(record).map(([field, value]) => {
      const messages = Array.isArray(value) ? value.map(String).join(" ") : String(value);
      return `${field}: ${messages}`;
    });
    return truncate(parts.join("; "), EXCERPT_CHARS) || "no details";
  }
  const text = truncate(raw, EXCERPT_CHARS);
  return text === "" ? "empty body" : `non-JSON body "${text}"`;
}

function hintForBadRequest(body: unknown): string {
  const message = nonFieldMessage(body);
  // {"error":"Invalid user image format."}: the file passed the type check but could not be decoded.
  if (message !== undefined && /image/i.test(message) && /format|decod|corrupt|invalid/i.test(message)) {
    const which = /\bref/i.test(message) ? "reference image (ref_image)" : "image (user_image)";
    return `The ${which} could not be decoded: re-export it as a JPEG or PNG (open it and save it again, do not just rename it) and send it again.`;
  }
  if (message !== undefined) return "Check the inputs against the tool's schema and try again.";
  const fields = body && typeof body === "object" && !Array.isArray(body) ? Object.keys(body) : [];
  if (fields.includes("user_image")) {
    return "Didit could not use the image: send a clear, complete JPEG/PNG/WebP/TIFF photo of at most 5 MB.";
  }
  if (fields.includes("ref_image")) {
    return "Didit could not use the reference image (ref_image): send a clear, complete JPEG/PNG/WebP/TIFF photo of the ID portrait of at most 5 MB.";
  }
  if (fields.includes("face_liveness_score_decline_threshold")) {
    return "face_liveness_score_decline_threshold must be a number from 0 to 100.";
  }
  if (fields.includes("face_match_score_decline_threshold")) {
    return "face_match_score_decline_threshold must be a number from 0 to 100.";
  }
  if (fields.length > 0) {
    const named = fields.slice(0, 5).map((f) => truncate(f, 60));
    return `Fix the field(s) Didit named (${named.join(", ")}${fields.length > 5 ? ", ..." : ""}) and try again.`;
  }
  return "Check the inputs against the tool's schema and try again.";
}
