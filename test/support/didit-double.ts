/**
 * Loopback test double for Didit's `POST /v3/passive-liveness/` and `POST /v3/face-match/` endpoints.
 *
 * A real HTTP server on 127.0.0.1 that follows /work/shared/didit-api-contract.md: routing, body bound,
 * x-api-key auth, multipart parsing, DRF-style validation, then a scripted outcome (queued one-shot
 * outcomes first, else the default). Used by unit, fault-injection, end-to-end tests and the benchmark.
 * Only Node built-ins; never writes to stdout.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export const TEST_API_KEY = "test-key-0123456789abcdef";
export const LIVENESS_PATH = "/v3/passive-liveness/";
export const FACE_MATCH_PATH = "/v3/face-match/";
/** Maximum request body the double reads before answering 413 and closing the connection. */
export const MAX_REQUEST_BODY_BYTES = 12 * 1024 * 1024;
/** Largest accepted `user_image` (5 MB, the safe reading of the contract). */
export const MAX_IMAGE_BYTES = 5_242_880;
export const DEFAULT_DECLINE_THRESHOLD = 30;
/** The undocumented error-level tag used by the `unknown_error_tag` outcome. */
export const UNKNOWN_ERROR_TAG = "LIVENESS_INJECTION_ATTACK";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  contentType: string;
  fields: Record<string, string>;
  file?: RecordedFile;
  /** Every file part in order (face match sends user_image and ref_image). */
  files: RecordedFile[];
  bodyBytes: number;
  /** performance.now() when the request was recorded (this process's clock): for timing tests. */
  receivedAt: number;
  /** The status the double answered, once sent; a 200 is what Didit bills (none for a hang or a reset). */
  status?: number;
}

export interface RecordedFile {
  field: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
}

/**
 * Scripted face-match answers. `score` follows the contract's rule against the request's threshold: strictly
 * above approves, at or below declines with LOW_FACE_MATCH_SIMILARITY. Transport faults as for liveness.
 */
export type MatchOutcome =
  | { kind: "score"; score: number }
  | { kind: "no_face"; image: "user" | "ref"; tag?: "NO_REFERENCE_IMAGE" | "NO_FACE_DETECTED" }
  | { kind: "in_review"; score?: number }
  | { kind: "unknown_status" }
  | { kind: "status"; status: number; body: string; contentType?: string; headers?: Record<string, string> }
  | { kind: "hang" }
  | { kind: "delay"; ms: number; then?: MatchOutcome }
  | { kind: "reset" };

export type Outcome =
  | { kind: "approved"; score?: number }
  | { kind: "low_score"; score?: number }
  | { kind: "spoof" }
  | { kind: "no_face" }
  | { kind: "multiple_faces" }
  | { kind: "blocklist"; possible?: boolean }
  | { kind: "duplicate"; possible?: boolean }
  | { kind: "unknown_error_tag" }
  | { kind: "old_form" }
  | { kind: "status"; status: number; body: string; contentType?: string; headers?: Record<string, string> }
  | { kind: "hang" }
  | { kind: "delay"; ms: number; then?: Outcome }
  | { kind: "reset" }
  | { kind: "truncated_json" }
  | { kind: "huge_body"; bytes: number };

export interface DiditDouble {
  url: string;
  apiKey: string;
  requests: RecordedRequest[];
  connections: number;
  setDefault(outcome: Outcome): void;
  enqueue(...outcomes: Outcome[]): void;
  /** The face-match answer when none is queued (default: score 87.5). */
  setMatchDefault(outcome: MatchOutcome): void;
  /** One-shot face-match answers, used in order before the default. */
  enqueueMatch(...outcomes: MatchOutcome[]): void;
  /** Requests recorded for one endpoint path (without the prefix), e.g. FACE_MATCH_PATH. */
  requestsTo(endpoint: string): RecordedRequest[];
  /** The outcome for one image (by its sha256), whatever order requests arrive in; queued outcomes still go first. */
  setOutcomeForImage(sha256: string, outcome: Outcome): void;
  reset(): void;
  close(): Promise<void>;
  /** Resolves once at least `count` requests have been recorded (default 1). Rejects on close(). */
  waitForRequests(count?: number): Promise<void>;
}

/** The `request_id` the double answers for an image: first 32 hex digits of its sha256, as 8-4-4-4-12. */
export function requestIdFor(bytes: Uint8Array): string {
  return requestIdFromSha256(createHash("sha256").update(bytes).digest("hex"));
}

/**
 * Builds a `delay` outcome. Prefer it over an object literal: biome's noThenProperty flags `{ then: ... }`.
 */
export function delayed(ms: number, then?: Outcome): Outcome {
  if (then === undefined) return { kind: "delay", ms };
  return { kind: "delay", ms, then };
}

/** Error bodies exactly as Didit's OpenAPI document quotes them (the contract's "Errors"). */
export const DIDIT_BODIES = Object.freeze({
  /** 403 for a missing or an invalid key (older docs: 401). */
  permissionDenied: JSON.stringify({ detail: "You do not have permission to perform this action." }),
  /** 403 for an empty balance, checked before any processing. */
  noCredits: JSON.stringify({
    error:
      "You don't have enough credits to perform this request. Please top up at https://business.didit.me",
  }),
  /** 400 for a file that passes the extension check but cannot be decoded. */
  invalidImageFormat: JSON.stringify({ error: "Invalid user image format." }),
  rateLimited: JSON.stringify({
    detail: "Write request rate limit exceeded. You can make up to 300 requests per minute.",
  }),
});

/** The face of the contract's newest 200 example. */
export const DOCUMENTED_FACE = Object.freeze({
  bbox: [661, 728, 1688, 2188],
  confidence: 0.732973,
  age: 26.91,
  gender: "male",
  race: null,
});

/** The contract's newest documented 200 body, with fields of `liveness` replaced: for out-of-range answers. */
export function documentedLivenessBody(liveness: Record<string, unknown> = {}) {
  return {
    request_id: "a1b2c3d4-e5f6-7890-1234-567890abcdef",
    liveness: {
      status: "Approved",
      method: "PASSIVE",
      score: 95,
      user_image: { entities: [{ ...DOCUMENTED_FACE }], best_angle: 0 },
      warnings: [],
      face_quality: 84.21,
      face_luminance: 50.33,
      ...liveness,
    },
    vendor_data: "user-123",
    metadata: null,
    created_at: "2026-06-12T01:04:42.763237+00:00",
  };
}

/** The 429 the contract documents, with `Retry-After` (seconds). */
export function throttled(retryAfterSeconds = 2): Outcome {
  return {
    kind: "status",
    status: 429,
    body: DIDIT_BODIES.rateLimited,
    headers: {
      "retry-after": String(retryAfterSeconds),
      "x-ratelimit-limit": "300",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": String(retryAfterSeconds),
    },
  };
}

function requestIdFromSha256(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Warnings

type LogType = "error" | "warning" | "information";
/** The OpenAPI warning object, in its field order. */
interface Warning {
  risk: string;
  feature: "LIVENESS" | "FACEMATCH";
  additional_data: Record<string, unknown> | null;
  log_type: LogType;
  short_description: string;
  long_description: string;
}

/** What a blocklist hit points to, as the contract quotes it; duplicates carry their matching session the same way. */
export const BLOCKLIST_ADDITIONAL_DATA = Object.freeze({
  blocklisted_session_id: "882c42d5-8a4d-4d20-8080-a22f57822c86",
  blocklisted_session_number: 3242,
  api_service: null,
});
export const DUPLICATE_ADDITIONAL_DATA = Object.freeze({
  duplicated_session_id: "5b0d7a4e-3c21-4f8e-9a6d-2e1f0c9b8a77",
  duplicated_session_number: 1187,
  api_service: null,
});

const WARNING_TEXTS: Record<string, [string, string]> = {
  // The two texts of the contract's documented spoof example, verbatim.
  LOW_LIVENESS_SCORE: [
    "Low liveness score",
    "The liveness check resulted in a low score, indicating potential use of non-live facial representations or poor-quality biometric data.",
  ],
  LIVENESS_FACE_ATTACK: [
    "Liveness Face Attack",
    "The system detected a potential attempt to bypass the liveness check.",
  ],
  NO_FACE_DETECTED: [
    "No face detected",
    "No face was detected in the provided image. Make sure the face is clearly visible, well lit and fully inside the frame.",
  ],
  MULTIPLE_FACES_DETECTED: [
    "Multiple faces detected",
    "More than one face was detected in the image. The largest face was used for the liveness check.",
  ],
  FACE_IN_BLOCKLIST: [
    "Face in blocklist",
    "The face matches a face in the application's blocklist, which was added to prevent further verifications.",
  ],
  POSSIBLE_FACE_IN_BLOCKLIST: [
    "Possible face in blocklist",
    "The face is highly similar to a face in the application's blocklist and may belong to a blocked user.",
  ],
  DUPLICATED_FACE: [
    "Duplicated face",
    "This face matches a face from another approved session with a different vendor_data.",
  ],
  POSSIBLE_DUPLICATED_FACE: [
    "Possible duplicated face",
    "This face may match a face from another session with a different vendor_data.",
  ],
  [UNKNOWN_ERROR_TAG]: [
    "Injection attack suspected",
    "The image appears to have been injected into the capture pipeline (virtual camera or emulator) rather than captured by a real camera.",
  ],
};

const ADDITIONAL_DATA: Record<string, Readonly<Record<string, unknown>>> = {
  FACE_IN_BLOCKLIST: BLOCKLIST_ADDITIONAL_DATA,
  POSSIBLE_FACE_IN_BLOCKLIST: BLOCKLIST_ADDITIONAL_DATA,
  DUPLICATED_FACE: DUPLICATE_ADDITIONAL_DATA,
  POSSIBLE_DUPLICATED_FACE: DUPLICATE_ADDITIONAL_DATA,
};

function warning(risk: string, logType: LogType): Warning {
  const [short, long] = WARNING_TEXTS[risk] ?? [risk, risk];
  const data = ADDITIONAL_DATA[risk];
  return {
    risk,
    feature: "LIVENESS",
    additional_data: data ? { ...data } : null,
    log_type: logType,
    short_description: short,
    long_description: long,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Response building

interface Entity {
  bbox: [number, number, number, number];
  confidence: number;
  age: number;
  gender: "male" | "female";
  race?: null;
}

interface Scenario {
  score: number | null;
  entities: Entity[];
  warnings: Warning[];
  faceQuality: number | null;
  faceLuminance: number | null;
  oldForm?: boolean;
}

const MAIN_FACE: Entity = {
  bbox: [661, 728, 1688, 2188],
  confidence: 0.732973,
  age: 26.91,
  gender: "male",
  race: null,
};
const SECOND_FACE: Entity = {
  bbox: [1904, 812, 2361, 1420],
  confidence: 0.611842,
  age: 34.27,
  gender: "female",
  race: null,
};

function scenarioFor(outcome: Outcome): Scenario {
  const face = (): Entity[] => [{ ...MAIN_FACE }];
  switch (outcome.kind) {
    case "approved":
      return {
        score: outcome.score ?? 95,
        entities: face(),
        warnings: [],
        faceQuality: 84.21,
        faceLuminance: 50.33,
      };
    case "low_score":
      return {
        score: outcome.score ?? 12,
        entities: face(),
        warnings: [],
        faceQuality: 41.72,
        faceLuminance: 38.9,
      };
    case "spoof":
      return {
        score: 4.17,
        entities: face(),
        warnings: [warning("LIVENESS_FACE_ATTACK", "error")],
        faceQuality: 63.08,
        faceLuminance: 57.41,
      };
    case "no_face":
      return {
        score: null,
        entities: [],
        warnings: [warning("NO_FACE_DETECTED", "error")],
        faceQuality: null,
        faceLuminance: null,
      };
    case "multiple_faces":
      return {
        score: 93,
        entities: [{ ...MAIN_FACE }, { ...SECOND_FACE }],
        warnings: [warning("MULTIPLE_FACES_DETECTED", "warning")],
        faceQuality: 79.64,
        faceLuminance: 52.18,
      };
    case "blocklist":
      return {
        score: 96,
        entities: face(),
        warnings: [warning(outcome.possible ? "POSSIBLE_FACE_IN_BLOCKLIST" : "FACE_IN_BLOCKLIST", "error")],
        faceQuality: 86.02,
        faceLuminance: 49.75,
      };
    case "duplicate":
      return {
        score: 94,
        entities: face(),
        warnings: [warning(outcome.possible ? "POSSIBLE_DUPLICATED_FACE" : "DUPLICATED_FACE", "information")],
        faceQuality: 82.5,
        faceLuminance: 51.06,
      };
    case "unknown_error_tag":
      return {
        score: 88,
        entities: face(),
        warnings: [warning(UNKNOWN_ERROR_TAG, "error")],
        faceQuality: 80.13,
        faceLuminance: 48.6,
      };
    case "old_form":
      return {
        score: 95,
        entities: [
          { bbox: [...MAIN_FACE.bbox], confidence: MAIN_FACE.confidence, age: 26.91, gender: "male" },
        ],
        warnings: [],
        faceQuality: 84.21,
        faceLuminance: 50.33,
        oldForm: true,
      };
    default:
      throw new Error(`not a 200 outcome: ${outcome.kind}`);
  }
}

interface ValidRequest {
  sha256: string;
  threshold: number;
  rotate: boolean;
  vendorData: string | null;
  metadata: Record<string, unknown> | null;
}

function createdAt(oldForm: boolean): string {
  const micros = String(process.hrtime()[1] % 1000).padStart(3, "0");
  const iso = new Date().toISOString(); // 2026-06-12T01:04:42.763Z
  return `${iso.slice(0, -1)}${micros}${oldForm ? "Z" : "+00:00"}`;
}

function buildLivenessBody(outcome: Outcome, req: ValidRequest): Record<string, unknown> {
  const s = scenarioFor(outcome);
  const warnings = [...s.warnings];
  const noFace = warnings.some((w) => w.risk === "NO_FACE_DETECTED");
  if (!noFace && s.score !== null && s.score <= req.threshold) {
    warnings.push(warning("LOW_LIVENESS_SCORE", "error"));
  }
  const declined = warnings.some((w) => w.log_type === "error");
  const hasFace = s.entities.length > 0;
  const body: Record<string, unknown> = {
    request_id: requestIdFromSha256(req.sha256),
    liveness: {
      status: declined ? "Declined" : "Approved",
      method: "PASSIVE",
      score: s.score,
      user_image: { entities: s.entities, best_angle: req.rotate && hasFace ? 90 : 0 },
      warnings,
      face_quality: s.faceQuality,
      face_luminance: s.faceLuminance,
    },
  };
  if (!s.oldForm) {
    body.vendor_data = req.vendorData;
    body.metadata = req.metadata;
  }
  body.created_at = createdAt(s.oldForm === true);
  return body;
}

// ---------------------------------------------------------------------------------------------------------
// Face match

const MATCH_WARNING_TEXTS: Record<string, [string, string]> = {
  LOW_FACE_MATCH_SIMILARITY: [
    "Low face match similarity",
    "The similarity between the user image and the reference image is below the configured threshold.",
  ],
  NO_REFERENCE_IMAGE: [
    "No reference image",
    "No face could be compared: a face was not found in one of the images.",
  ],
};

interface ValidMatchRequest extends ValidRequest {
  refSha256: string;
  save: boolean;
}

function matchWarning(risk: string): Warning {
  const [short, long] = MATCH_WARNING_TEXTS[risk] ?? WARNING_TEXTS[risk] ?? [risk, risk];
  return {
    risk,
    feature: "FACEMATCH",
    additional_data: null,
    log_type: "error",
    short_description: short,
    long_description: long,
  };
}

function buildFaceMatchBody(outcome: MatchOutcome, req: ValidMatchRequest): Record<string, unknown> {
  const userFace = {
    entities: [{ bbox: [...MAIN_FACE.bbox], confidence: 0.99 }],
    best_angle: req.rotate ? 90 : 0,
  };
  const refFace = { entities: [{ bbox: [212, 148, 498, 510], confidence: 0.98 }], best_angle: 0 };
  const noFace = { entities: [], best_angle: null };
  let status: string;
  let score: number | null;
  const warnings: Warning[] = [];
  let user: object = userFace;
  let ref: object = refFace;
  switch (outcome.kind) {
    case "score":
      score = outcome.score;
      if (score <= req.threshold) warnings.push(matchWarning("LOW_FACE_MATCH_SIMILARITY"));
      status = warnings.length > 0 ? "Declined" : "Approved";
      break;
    case "no_face":
      // Documented quirk: null on the default save path, 0 with save_api_request=false.
      score = req.save ? null : 0;
      warnings.push(matchWarning(outcome.tag ?? "NO_REFERENCE_IMAGE"));
      if (outcome.image === "user") user = noFace;
      else ref = noFace;
      status = "Declined";
      break;
    case "in_review":
      score = outcome.score ?? 45;
      status = "In Review";
      break;
    case "unknown_status":
      score = 80;
      status = "Pending";
      break;
    default:
      throw new Error(`not a 200 face-match outcome: ${outcome.kind}`);
  }
  return {
    request_id: requestIdFromSha256(
      createHash("sha256")
        .update(req.sha256 + req.refSha256)
        .digest("hex"),
    ),
    face_match: { status, score, user_image: user, ref_image: ref, warnings },
    vendor_data: req.vendorData,
    metadata: req.metadata,
    created_at: createdAt(false),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Multipart parsing

interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

class MultipartError extends Error {}

/** Splits `a=b; c="d e"` style header parameters; keys lower-cased. */
function parseHeaderParams(value: string): { value: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const semi = value.indexOf(";");
  const main = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  const rest = semi === -1 ? "" : value.slice(semi);
  for (let m = re.exec(rest); m !== null; m = re.exec(rest)) {
    const key = (m[1] ?? "").toLowerCase();
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "").trim();
    params[key] = raw;
  }
  return { value: main, params };
}

function decodeFormName(value: string): string {
  // WHATWG multipart encoding escapes `"`, CR and LF as %22, %0D, %0A.
  return value.replace(/%22/g, '"').replace(/%0D/gi, "\r").replace(/%0A/gi, "\n");
}

function decodeExtValue(value: string): string | undefined {
  const m = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[2] ?? "");
  } catch {
    return undefined;
  }
}

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  if (pos !== 0 && (pos === -1 || body[pos - 1] !== 0x0a)) throw new MultipartError("missing first boundary");
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // closing delimiter "--"
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++; // transport padding
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw new MultipartError("malformed boundary line");
    pos += 2;
    const headerEnd = body.indexOf(HEADER_END, pos - 2);
    if (headerEnd === -1) throw new MultipartError("unterminated part headers");
    const headerText = body.subarray(pos, headerEnd).toString("utf8");
    const dataStart = headerEnd + HEADER_END.length;
    const next = body.indexOf(Buffer.concat([CRLF, delimiter]), dataStart);
    if (next === -1) throw new MultipartError("missing closing boundary");
    const headers: Record<string, string> = {};
    for (const line of headerText.split("\r\n")) {
      if (line === "") continue;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new MultipartError("malformed part header");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const disposition = headers["content-disposition"];
    if (!disposition) throw new MultipartError("part without content-disposition");
    const { value: dispType, params } = parseHeaderParams(disposition);
    if (dispType !== "form-data" || params.name === undefined) {
      throw new MultipartError("part is not form-data");
    }
    const part: Part = { name: decodeFormName(params.name), data: body.subarray(dataStart, next) };
    const extFilename = params["filename*"] !== undefined ? decodeExtValue(params["filename*"]) : undefined;
    if (extFilename !== undefined) part.filename = extFilename;
    else if (params.filename !== undefined) part.filename = decodeFormName(params.filename);
    if (headers["content-type"] !== undefined) part.contentType = headers["content-type"];
    parts.push(part);
    pos = next + CRLF.length;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Validation

function hasImageMagic(b: Buffer): boolean {
  const starts = (...bytes: number[]) => bytes.every((v, i) => b[i] === v);
  if (starts(0xff, 0xd8, 0xff)) return true; // JPEG
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return true; // PNG
  if (b.length >= 12 && b.toString("latin1", 0, 4) === "RIFF" && b.toString("latin1", 8, 12) === "WEBP") {
    return true; // WebP
  }
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return true; // TIFF (LE / BE)
  return false;
}

const INVALID_IMAGE =
  "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";

function validate(
  parts: Part[],
  endpoint: string = LIVENESS_PATH,
): { errors: Record<string, string[]> } | { ok: ValidMatchRequest } {
  const errors: Record<string, string[]> = {};
  const text = new Map<string, string>();
  const files = new Map<string, Part>();
  for (const p of parts) {
    if (p.filename !== undefined) {
      if (!files.has(p.name)) files.set(p.name, p);
    } else {
      text.set(p.name, p.data.toString("utf8"));
    }
  }
  const isMatch = endpoint === FACE_MATCH_PATH;
  const fileFields = isMatch ? ["user_image", "ref_image"] : ["user_image"];
  for (const field of fileFields) {
    const image = files.get(field);
    if (!image) {
      errors[field] = [
        text.has(field)
          ? "The submitted data was not a file. Check the encoding type on the form."
          : "No file was submitted.",
      ];
    } else if (image.data.length === 0) {
      errors[field] = ["The submitted file is empty."];
    } else if (image.data.length > MAX_IMAGE_BYTES) {
      errors[field] = ["File size should not exceed 5 MB"];
    } else if (!hasImageMagic(image.data)) {
      errors[field] = [INVALID_IMAGE];
    }
  }
  const image = files.get("user_image");

  let threshold = DEFAULT_DECLINE_THRESHOLD;
  const thresholdField = isMatch
    ? "face_match_score_decline_threshold"
    : "face_liveness_score_decline_threshold";
  const rawThreshold = text.get(thresholdField);
  if (rawThreshold !== undefined) {
    const trimmed = rawThreshold.trim();
    const n = trimmed === "" ? Number.NaN : Number(trimmed);
    if (!Number.isFinite(n)) {
      errors[thresholdField] = ["A valid number is required."];
    } else if (n > 100) {
      errors[thresholdField] = ["Ensure this value is less than or equal to 100."];
    } else if (n < 0) {
      errors[thresholdField] = ["Ensure this value is greater than or equal to 0."];
    } else {
      threshold = n;
    }
  }

  const bools: Record<string, boolean> = {};
  for (const name of ["rotate_image", "save_api_request"]) {
    const raw = text.get(name);
    if (raw === undefined) continue;
    if (raw === "true" || raw === "false") bools[name] = raw === "true";
    else errors[name] = ["Must be a valid boolean."];
  }

  let metadata: Record<string, unknown> | null = null;
  const rawMetadata = text.get("metadata");
  if (rawMetadata !== undefined) {
    let parsed: unknown;
    let valid = false;
    try {
      parsed = JSON.parse(rawMetadata);
      valid = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
    } catch {
      valid = false;
    }
    if (valid) metadata = parsed as Record<string, unknown>;
    else errors.metadata = ["Value must be valid JSON."];
  }

  if (Object.keys(errors).length > 0 || !image) return { errors };
  const ref = files.get("ref_image");
  return {
    ok: {
      sha256: createHash("sha256").update(image.data).digest("hex"),
      refSha256: ref ? createHash("sha256").update(ref.data).digest("hex") : "",
      threshold,
      rotate: bools.rotate_image === true,
      save: bools.save_api_request !== false,
      vendorData: text.get("vendor_data") ?? null,
      metadata,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Server

/** The record of the request each response answers, so the status is noted before the client can read it. */
const answering = new WeakMap<ServerResponse, Pick<RecordedRequest, "status">>();

function noteStatus(res: ServerResponse, status: number): void {
  res.statusCode = status;
  const recorded = answering.get(res);
  if (recorded) recorded.status = status;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  extraHeaders?: Record<string, string>,
): void {
  send(res, status, JSON.stringify(body), "application/json", extraHeaders);
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  contentType: string,
  extraHeaders?: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  noteStatus(res, status);
  res.setHeader("content-type", contentType);
  res.setHeader("content-length", String(buf.length));
  for (const [k, v] of Object.entries(extraHeaders ?? {})) res.setHeader(k, v);
  res.end(buf);
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

function approved(): Outcome {
  return { kind: "approved" };
}

export async function startDiditDouble(options?: {
  apiKey?: string;
  /** Serve the endpoint under this path (e.g. "/didit"), as behind a reverse proxy; `url` then includes it. */
  pathPrefix?: string;
}): Promise<DiditDouble> {
  const apiKey = options?.apiKey ?? TEST_API_KEY;
  const pathPrefix = options?.pathPrefix ?? "";
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const waiters: { count: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  let queue: Outcome[] = [];
  const byImage = new Map<string, Outcome>();
  let defaultOutcome: Outcome = approved();
  let matchQueue: MatchOutcome[] = [];
  let matchDefault: MatchOutcome = { kind: "score", score: 87.5 };
  let closed = false;
  let closing: Promise<void> | undefined;

  const state = {
    requests: [] as RecordedRequest[],
    connections: 0,
  };

  const record = (r: Omit<RecordedRequest, "receivedAt">): void => {
    // Stamped in place: the handler may still fill in the parts it parses after recording.
    const stamped = Object.assign(r, { receivedAt: performance.now() });
    state.requests.push(stamped);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w && state.requests.length >= w.count) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const respond = (res: ServerResponse, outcome: Outcome, valid: ValidRequest): void => {
    if (res.destroyed) return;
    switch (outcome.kind) {
      case "status":
        send(res, outcome.status, outcome.body, outcome.contentType ?? "application/json", outcome.headers);
        return;
      case "hang":
        return; // never answered; close() destroys the socket
      case "delay":
        later(outcome.ms, () => respond(res, outcome.then ?? approved(), valid));
        return;
      case "reset": {
        const socket = res.socket;
        if (socket && typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
        else socket?.destroy();
        return;
      }
      case "truncated_json": {
        const full = JSON.stringify(buildLivenessBody(approved(), valid));
        send(res, 200, full.slice(0, Math.floor(full.length / 2)), "application/json");
        return;
      }
      case "huge_body":
        sendHuge(res, Math.max(0, Math.floor(outcome.bytes)));
        return;
      default:
        json(res, 200, buildLivenessBody(outcome, valid));
    }
  };

  const respondMatch = (res: ServerResponse, outcome: MatchOutcome, valid: ValidMatchRequest): void => {
    if (res.destroyed) return;
    switch (outcome.kind) {
      case "status":
        send(res, outcome.status, outcome.body, outcome.contentType ?? "application/json", outcome.headers);
        return;
      case "hang":
        return;
      case "delay":
        later(outcome.ms, () => respondMatch(res, outcome.then ?? matchDefault, valid));
        return;
      case "reset": {
        const socket = res.socket;
        if (socket && typeof socket.resetAndDestroy === "function") socket.resetAndDestroy();
        else socket?.destroy();
        return;
      }
      default:
        json(res, 200, buildFaceMatchBody(outcome, valid));
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer, bodyBytes: number): void => {
    const headers = flattenHeaders(req);
    const contentType = headers["content-type"] ?? "";
    const path = req.url ?? "";
    const recorded: Omit<RecordedRequest, "receivedAt"> = {
      method: req.method ?? "",
      path,
      headers,
      contentType,
      fields: {},
      files: [],
      bodyBytes,
    };
    answering.set(res, recorded);

    // Parse leniently up front so that rejected requests are recorded with what they carried.
    const ct = parseHeaderParams(contentType);
    let parts: Part[] | undefined;
    let parseError: string | undefined;
    if (ct.value !== "multipart/form-data") {
      parseError = "Unsupported media type";
    } else if (!ct.params.boundary) {
      parseError = "Multipart form parse error - Invalid boundary in multipart: None";
    } else {
      try {
        parts = parseMultipart(body, ct.params.boundary);
      } catch (e) {
        parseError = `Multipart form parse error - ${(e as Error).message}`;
      }
    }
    if (parts) {
      let file: Part | undefined;
      const describe = (p: Part): RecordedFile => ({
        field: p.name,
        filename: p.filename ?? "",
        contentType: p.contentType ?? "",
        size: p.data.length,
        sha256: createHash("sha256").update(p.data).digest("hex"),
      });
      for (const p of parts) {
        if (p.filename === undefined) recorded.fields[p.name] = p.data.toString("utf8");
        else {
          recorded.files.push(describe(p));
          if (!file || (file.name !== "user_image" && p.name === "user_image")) file = p;
        }
      }
      if (file) recorded.file = describe(file);
    }
    record(recorded);

    // The OpenAPI document answers a missing and an invalid key alike: 403, the permission text.
    if (headers["x-api-key"] !== apiKey) {
      send(res, 403, DIDIT_BODIES.permissionDenied, "application/json");
      return;
    }
    if (parseError !== undefined || !parts) {
      json(res, 400, { detail: parseError ?? "Unsupported media type", code: "parse_error" });
      return;
    }
    const endpoint = path.split("?")[0]?.slice(pathPrefix.length) ?? "";
    const result = validate(parts, endpoint);
    if ("errors" in result) {
      json(res, 400, result.errors);
      return;
    }
    if (endpoint === FACE_MATCH_PATH) {
      respondMatch(res, matchQueue.shift() ?? matchDefault, result.ok);
      return;
    }
    const outcome = queue.shift() ?? byImage.get(result.ok.sha256) ?? defaultOutcome;
    respond(res, outcome, result.ok);
  };

  const server = createServer((req, res) => {
    const pathname = (req.url ?? "").split("?")[0];
    const isRoute =
      req.method === "POST" &&
      (pathname === `${pathPrefix}${LIVENESS_PATH}` || pathname === `${pathPrefix}${FACE_MATCH_PATH}`);
    const chunks: Buffer[] = [];
    let bodyBytes = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      bodyBytes += chunk.length;
      if (!isRoute || tooLarge) return; // drain without storing
      if (bodyBytes > MAX_REQUEST_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        record({
          method: req.method ?? "",
          path: req.url ?? "",
          headers: flattenHeaders(req),
          contentType: req.headers["content-type"] ?? "",
          fields: {},
          files: [],
          bodyBytes,
        });
        json(res, 413, { detail: "Request entity too large." }, { connection: "close" });
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", () => {
      /* client went away; nothing to answer */
    });
    req.on("end", () => {
      if (tooLarge) return;
      if (!isRoute) {
        record({
          method: req.method ?? "",
          path: req.url ?? "",
          headers: flattenHeaders(req),
          contentType: req.headers["content-type"] ?? "",
          fields: {},
          files: [],
          bodyBytes,
        });
        json(res, 404, { detail: "Not found." });
        return;
      }
      handle(req, res, Buffer.concat(chunks, bodyBytes), bodyBytes);
    });
  });

  server.on("connection", (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const double: DiditDouble = {
    url: `http://127.0.0.1:${port}${pathPrefix}`,
    apiKey,
    get requests() {
      return state.requests;
    },
    set requests(value: RecordedRequest[]) {
      state.requests = value;
    },
    get connections() {
      return state.connections;
    },
    set connections(value: number) {
      state.connections = value;
    },
    setDefault(outcome) {
      defaultOutcome = outcome;
    },
    enqueue(...outcomes) {
      queue.push(...outcomes);
    },
    setMatchDefault(outcome) {
      matchDefault = outcome;
    },
    enqueueMatch(...outcomes) {
      matchQueue.push(...outcomes);
    },
    requestsTo(endpoint) {
      return state.requests.filter((r) => r.path.split("?")[0] === `${pathPrefix}${endpoint}`);
    },
    setOutcomeForImage(sha256, outcome) {
      byImage.set(sha256, outcome);
    },
    reset() {
      state.requests.length = 0;
      queue = [];
      byImage.clear();
      defaultOutcome = approved();
      matchQueue = [];
      matchDefault = { kind: "score", score: 87.5 };
    },
    waitForRequests(count = 1) {
      if (state.requests.length >= count) return Promise.resolve();
      if (closed) return Promise.reject(new Error("didit double is closed"));
      return new Promise<void>((resolve, reject) => waiters.push({ count, resolve, reject }));
    },
    close() {
      if (closing) return closing;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of waiters.splice(0)) w.reject(new Error("didit double closed"));
      closing = new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
  return double;
}

function sendHuge(res: ServerResponse, bytes: number): void {
  noteStatus(res, 200);
  res.setHeader("content-type", "application/json");
  res.setHeader("content-length", String(bytes));
  // Valid JSON when there is room: {"padding":"xxx..."}; otherwise spaces.
  const head = Buffer.from('{"padding":"');
  const tail = Buffer.from('"}');
  const framed = bytes >= head.length + tail.length;
  const chunk = Buffer.alloc(64 * 1024, framed ? "x" : " ");
  let remaining = bytes;
  let wroteHead = false;
  const pump = (): void => {
    while (remaining > 0 && !res.destroyed) {
      let piece: Buffer;
      if (framed && !wroteHead) {
        piece = head;
        wroteHead = true;
      } else if (framed && remaining === tail.length) {
        piece = tail;
      } else {
        const room = framed ? remaining - tail.length : remaining;
        piece = chunk.subarray(0, Math.min(chunk.length, room));
      }
      remaining -= piece.length;
      if (!res.write(piece)) {
        res.once("drain", pump);
        return;
      }
    }
    if (remaining === 0 && !res.destroyed) res.end();
  };
  pump();
}
