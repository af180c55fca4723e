import { ToolFailure, truncate } from "../errors.js";

const EXCERPT_CHARS = 300;
const MAY_HAVE_BILLED =
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
  switch (true) {
    case status === 400:
      return new ToolFailure(
        "bad_request",
        `Didit rejected the request (400): ${detail}.`,
        hintForBadRequest(body),
      );
    case status === 401:
      return new ToolFailure(
        "unauthorized",
        "Didit did not accept the API key (401).",
        "Set DIDIT_API_KEY to a valid, unrevoked key from the Didit Business Console (API & Webhooks) and restart the server.",
      );
    case status === 402 || (status === 403 && mentionsCredits(bodyText)):
      return new ToolFailure(
        "insufficient_credits",
        status === 403
          ? "Didit refused the check for lack of credits (403)."
          : `Didit refused the check for lack of credits (${status}): ${detail}.`,
        "Top up credits in the Didit Business Console (Billing), then retry. Nothing was processed.",
      );
    case status === 403:
      return new ToolFailure(
        "forbidden",
        "Didit refused access (403).",
        "Check that DIDIT_API_KEY is set and allowed to use Passive Liveness, and that this machine's IP is not blocked by the application's IP allow-list.",
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
        `Didit had a server error (${status}): ${detail}.`,
        MAY_HAVE_BILLED,
      );
    default:
      return new ToolFailure(
        "upstream_error",
        `Didit answered with unexpected status ${status}: ${detail}.`,
        "Retry later; if it persists, check Didit's status page.",
      );
  }
}

export const MAY_HAVE_BEEN_BILLED_HINT = MAY_HAVE_BILLED;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function mentionsCredits(text: string): boolean {
  return /credit|balance|payment|funds/i.test(text);
}

/** DRF bodies: a field-keyed map, a bare array, or {detail, code}. Name the fields, quote bounded messages. */
function describeBody(body: unknown, raw: string): string {
  if (Array.isArray(body)) return truncate(body.map(String).join("; "), EXCERPT_CHARS) || "no details";
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    if (typeof record.detail === "string") {
      const code = typeof record.code === "string" ? ` (code ${record.code})` : "";
      return truncate(`${record.detail}${code}`, EXCERPT_CHARS);
    }
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
  if (fields.length > 0 && !fields.includes("detail")) {
    const named = fields.slice(0, 5).map((f) => truncate(f, 60));
    return `Fix the field(s) Didit named (${named.join(", ")}${fields.length > 5 ? ", ..." : ""}) and try again.`;
  }
  return "Check the inputs against the tool's schema and try again.";
}
