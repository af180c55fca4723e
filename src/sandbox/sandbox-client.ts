import { randomUUID } from "node:crypto";
import type { DiditClient, LivenessParams } from "../didit/client.js";
import type { DiditLivenessResponse, DiditWarning } from "../didit/response-schema.js";
import { ToolFailure } from "../errors.js";
import { findWarning } from "../warnings/catalog.js";

/** Outcomes chosen with `vendor_data: "sandbox:<outcome>"`; anything else is `approved`. */
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
] as const;
export type SandboxOutcome = (typeof SANDBOX_OUTCOMES)[number];

const SWITCH_PREFIX = "sandbox:";
const DEFAULT_THRESHOLD = 30;

export function sandboxOutcomeFor(vendorData: string | undefined): SandboxOutcome {
  if (!vendorData?.startsWith(SWITCH_PREFIX)) return "approved";
  const wanted = vendorData.slice(SWITCH_PREFIX.length).trim().toLowerCase().replace(/-/g, "_");
  return (SANDBOX_OUTCOMES as readonly string[]).includes(wanted) ? (wanted as SandboxOutcome) : "approved";
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
      return sandboxResponse(outcome, params, now());
    },
    close: async () => {},
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
  const entities = Array.from({ length: faceCount }, (_, i) =>
    i === 0 ? mocked : { bbox: null, confidence: null, age: null, gender: null, race: null },
  );
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
