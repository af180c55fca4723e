import { randomUUID } from "node:crypto";
import { ToolFailure } from "../core/errors.js";
import { findWarning } from "../warnings/catalog.js";
import type { DiditClient, FaceMatchParams, LivenessParams } from "./client.js";
import type { DiditFaceMatchResponse } from "./face-match-schema.js";
import type { DiditLivenessResponse, DiditWarning } from "./response-schema.js";

/**
 * Outcomes chosen with `vendor_data: "sandbox:<outcome>"` (no switch: `approved`). Liveness outcomes shape the
 * liveness answer (a face match then approves); match outcomes shape the face-match answer (liveness approves), so
 * one switch drives verify_selfie's whole flow.
 */
export const SANDBOX_OUTCOMES = [
  "approved",
  "spoof",
  "no_face",
  "multiple_faces",
  "low_score",
  "blocklist",
  "possible_blocklist",
  "duplicate",
  "rate_limited",
  "upstream_error",
  "match",
  "no_match",
  "no_face_ref",
  "match_review",
  "match_upstream_error",
] as const;
export type SandboxOutcome = (typeof SANDBOX_OUTCOMES)[number];

const SWITCH_PREFIX = "sandbox:";
const DEFAULT_THRESHOLD = 30;
const MATCH_OUTCOMES: readonly SandboxOutcome[] = ["match", "no_match", "no_face_ref", "match_review"];

/** The outcome a vendor_data selects; an unknown `sandbox:` outcome is an input error, never a silent Approved. */
export function sandboxOutcomeFor(vendorData: string | undefined): SandboxOutcome {
  if (!vendorData?.startsWith(SWITCH_PREFIX)) return "approved";
  const wanted = vendorData.slice(SWITCH_PREFIX.length).trim().toLowerCase().replace(/-/g, "_");
  if ((SANDBOX_OUTCOMES as readonly string[]).includes(wanted)) return wanted as SandboxOutcome;
  throw new ToolFailure(
    "invalid_input",
    `Unknown sandbox outcome "${vendorData.slice(SWITCH_PREFIX.length, SWITCH_PREFIX.length + 40)}" in vendor_data. Nothing was checked.`,
    `Use vendor_data "sandbox:<outcome>" with one of: ${SANDBOX_OUTCOMES.join(", ")} (hyphens work too, e.g. sandbox:no-match); or any vendor_data without the sandbox: prefix for approved.`,
  );
}

export interface SandboxOptions {
  now?: () => Date;
}

/**
 * An offline responder with Didit's contract, as a sandbox application's key would answer: mocked outcomes, no
 * billing. The image has already been validated like a real upload by then. The answer depends only on the
 * requested outcome, never on what the photo shows or on what is installed (measuring a photo is
 * precheck_face_image's job), so it is instant and the same everywhere.
 */
export function createSandboxClient(options: SandboxOptions = {}): DiditClient {
  const now = options.now ?? (() => new Date());
  return {
    async checkPassiveLiveness(_image, params, call = {}) {
      call.onProgress?.("Sandbox: answering offline, nothing is uploaded");
      const outcome = sandboxOutcomeFor(params.vendor_data);
      throwIfFailure(outcome);
      return sandboxResponse(MATCH_OUTCOMES.includes(outcome) ? "approved" : outcome, params, now());
    },
    async matchFaces(_userImage, _refImage, params, call = {}) {
      call.onProgress?.("Sandbox: comparing offline, nothing is uploaded");
      const outcome = sandboxOutcomeFor(params.vendor_data);
      throwIfFailure(outcome === "match_upstream_error" ? "upstream_error" : outcome);
      return sandboxMatchResponse(outcome, params, now());
    },
    close: async () => {},
  };
}

function throwIfFailure(outcome: SandboxOutcome): void {
  if (outcome === "rate_limited") {
    throw new ToolFailure(
      "rate_limited",
      "Didit rate-limited this API key (429); it asks to wait 30 s. [sandbox]",
      "Wait 30 seconds before the next check; Didit allows about 300 checks per minute per key.",
      30,
    );
  }
  if (outcome === "upstream_error") {
    throw new ToolFailure(
      "upstream_error",
      'Didit had a server error (503): non-JSON body "Service Unavailable". [sandbox]',
      "The check may have reached Didit and been billed, so it was not resent automatically; retry once only if you still need a verdict.",
    );
  }
}

/** Face match per the contract: strictly above the threshold approves, at or below declines. */
function sandboxMatchResponse(
  outcome: SandboxOutcome,
  params: FaceMatchParams,
  at: Date,
): DiditFaceMatchResponse {
  const threshold = params.face_match_score_decline_threshold ?? DEFAULT_THRESHOLD;
  const face = (bbox: number[], confidence: number) => ({ entities: [{ bbox, confidence }], best_angle: 0 });
  const user = outcome === "no_face" ? { entities: [], best_angle: null } : face([120, 96, 392, 420], 0.97);
  const ref = outcome === "no_face_ref" ? { entities: [], best_angle: null } : face([48, 60, 170, 212], 0.94);
  const noPair = outcome === "no_face" || outcome === "no_face_ref";
  const score = noPair
    ? params.save_api_request === false
      ? 0
      : null
    : outcome === "no_match"
      ? 12.4
      : 88.6;
  const warnings: DiditWarning[] = [];
  if (noPair) warnings.push(sandboxWarning("NO_REFERENCE_IMAGE", "error"));
  else if (score !== null && score <= threshold)
    warnings.push(sandboxWarning("LOW_FACE_MATCH_SIMILARITY", "error"));
  const status = outcome === "match_review" ? "In Review" : warnings.length > 0 ? "Declined" : "Approved";
  return {
    request_id: randomUUID(),
    face_match: { status, score, user_image: user, ref_image: ref, warnings },
    vendor_data: params.vendor_data ?? null,
    metadata: params.metadata ?? null,
    created_at: at.toISOString().replace("Z", "+00:00"),
  };
}

function sandboxResponse(outcome: SandboxOutcome, params: LivenessParams, at: Date): DiditLivenessResponse {
  const threshold = params.face_liveness_score_decline_threshold ?? DEFAULT_THRESHOLD;
  const noFace = outcome === "no_face";
  const score = noFace ? null : ({ spoof: 4, low_score: 18 }[outcome as "spoof" | "low_score"] ?? 93);
  const risks: [string, "error" | "warning" | "information"][] = [];
  const add = (risk: string) => risks.push([risk, logTypeOf(risk)]);
  if (noFace) add("NO_FACE_DETECTED");
  if (outcome === "spoof") add("LIVENESS_FACE_ATTACK");
  if (score !== null && score <= threshold) add("LOW_LIVENESS_SCORE");
  if (outcome === "blocklist") add("FACE_IN_BLOCKLIST");
  if (outcome === "possible_blocklist") add("POSSIBLE_FACE_IN_BLOCKLIST");
  if (outcome === "multiple_faces") add("MULTIPLE_FACES_DETECTED");
  if (outcome === "duplicate") add("DUPLICATED_FACE");
  const warnings = risks.map(([risk, logType]) => sandboxWarning(risk, logType));
  const mocked = { bbox: [120, 96, 392, 420], confidence: 0.97, age: 31.4, gender: "female", race: null };
  const faceCount = noFace ? 0 : outcome === "multiple_faces" ? 2 : 1;
  const second = { bbox: [430, 140, 560, 300], confidence: 0.88, age: 38.2, gender: "male", race: null };
  const entities = [mocked, second].slice(0, faceCount);
  return {
    request_id: randomUUID(),
    liveness: {
      status: warnings.some((w) => w.log_type === "error") ? "Declined" : "Approved",
      method: "PASSIVE",
      score,
      user_image: { entities, best_angle: noFace ? null : 0 },
      warnings,
      face_quality: noFace ? null : 82.5,
      face_luminance: noFace ? null : 51.2,
    },
    vendor_data: params.vendor_data ?? null,
    metadata: params.metadata ?? null,
    created_at: at.toISOString().replace("Z", "+00:00"),
  };
}

function logTypeOf(risk: string): "error" | "warning" | "information" {
  const severity = findWarning(risk)?.severity;
  return severity === "error" ? "error" : severity === "warning" ? "warning" : "information";
}

/** Sandbox warnings take their texts from the catalog, so they read like Didit's own. */
function sandboxWarning(risk: string, logType: "error" | "warning" | "information"): DiditWarning {
  const entry = findWarning(risk);
  return {
    risk,
    log_type: logType,
    short_description: entry?.title ?? risk,
    long_description: entry?.explanation ?? risk,
  };
}
