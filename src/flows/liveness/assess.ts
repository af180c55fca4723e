import { ToolFailure } from "../../core/errors.js";
import { MAY_HAVE_BEEN_BILLED_HINT } from "../../didit/error-mapping.js";
import type { DiditLivenessResponse } from "../../didit/response-schema.js";
import { findWarning } from "../../warnings/catalog.js";
import type { NextAction } from "../../warnings/types.js";
import { retakeAdvice, stricterAction } from "../steps.js";
import { echoedMetadata } from "./metadata.js";
import type { DetectedFace, LivenessAssessment, LivenessWarning } from "./result.js";
import { warningsOf } from "./warnings.js";

/** The log types Didit documents; any other is a warning we do not understand. */
const LOG_TYPES: ReadonlySet<string> = new Set(["error", "warning", "information"]);

/**
 * Derives what to do from the warnings, catalog first: reject beats review beats retake beats proceed. A retake
 * only follows a decline. What we do not understand goes to a human at least: an unknown tag or log type, an
 * Approved with an error-level photo tag, or a decline nothing explains.
 */
export function deriveNextAction(
  status: "Approved" | "Declined",
  warnings: readonly LivenessWarning[],
): NextAction {
  let action: NextAction = "proceed";
  let explained = false;
  for (const warning of warnings) {
    const entry = findWarning(warning.risk);
    let candidate: NextAction;
    if (!entry) {
      candidate = "review";
    } else if (entry.next_action === "retake" && status !== "Declined") {
      // Approved despite an error-level photo problem contradicts the contract: let a human decide.
      candidate = warning.log_type === "error" ? "review" : "proceed";
    } else {
      candidate = entry.next_action;
    }
    if (!LOG_TYPES.has(warning.log_type)) candidate = stricterAction(candidate, "review");
    if (candidate !== "proceed") explained = true;
    action = stricterAction(action, candidate);
  }
  if (status === "Declined" && !explained) return "review";
  return action;
}

export function assessLiveness(
  response: DiditLivenessResponse,
  options: { includeFaceAttributes: boolean },
): LivenessAssessment {
  const { liveness } = response;
  if (liveness.status !== "Approved" && liveness.status !== "Declined") {
    throw new ToolFailure(
      "invalid_response",
      `Didit answered with status "${liveness.status.slice(0, 40)}", which this endpoint does not document (only Approved or Declined).`,
      MAY_HAVE_BEEN_BILLED_HINT,
    );
  }
  const status = liveness.status;
  const warnings = warningsOf(liveness.warnings);
  const entities = liveness.user_image?.entities ?? [];
  const faces: LivenessAssessment["faces"] = entities.map((e) => {
    const face: DetectedFace = { bbox: e.bbox ?? null, confidence: e.confidence ?? null };
    return options.includeFaceAttributes ? { ...face, age: e.age ?? null, gender: e.gender ?? null } : face;
  });
  const next_action = deriveNextAction(status, warnings);
  const score = liveness.score ?? null;
  const result: LivenessAssessment = {
    request_id: response.request_id,
    status,
    is_live: status === "Approved",
    next_action,
    summary: summarize(next_action, status, warnings),
    score,
    face_quality: liveness.face_quality ?? null,
    face_luminance: liveness.face_luminance ?? null,
    warnings,
    faces_detected: faces.length,
    faces,
    best_angle: liveness.user_image?.best_angle ?? null,
    vendor_data: response.vendor_data ?? null,
    created_at: response.created_at ?? null,
  };
  const metadata = echoedMetadata(response.metadata);
  if (metadata !== undefined) result.metadata = metadata;
  return result;
}

/**
 * One sentence an agent can relay to the person as it is: it carries no score and never discloses fraud signals
 * behind reject or review (the score stays in the structured `score` field, for the integrator).
 */
function summarize(
  action: NextAction,
  status: "Approved" | "Declined",
  warnings: readonly LivenessWarning[],
): string {
  switch (action) {
    case "proceed":
      return "The liveness check passed: the photo shows a live person.";
    case "retake": {
      return `The photo could not be verified: ${retakeAdvice(warnings, "please take a new, well-lit photo of your face and try again.")}`;
    }
    case "review":
      return status === "Approved"
        ? "The photo passed the liveness check, but the verification needs a manual review before you continue."
        : "We could not complete the verification automatically; it needs a manual review before you continue.";
    case "reject":
      return "We could not verify that this photo shows a live person, so the verification was not approved.";
  }
}
