import { ToolFailure } from "../../core/errors.js";
import { MAY_HAVE_BEEN_BILLED_HINT } from "../../didit/error-mapping.js";
import type { DiditFaceMatchResponse } from "../../didit/face-match-schema.js";
import { deriveNextAction } from "../liveness/assess.js";
import { echoedMetadata } from "../liveness/metadata.js";
import type { LivenessWarning } from "../liveness/result.js";
import { warningsOf } from "../liveness/warnings.js";
import { retakeAdvice } from "../steps.js";
import {
  FACE_MATCH_STATUSES,
  type FaceMatchAssessment,
  type FaceMatchImage,
  type FaceMatchStatus,
} from "./result.js";

/** Tags meaning no face pair could be scored: the score is then "no score" whatever number came back. */
const NO_SCORE_TAGS = new Set(["NO_REFERENCE_IMAGE", "NO_FACE_DETECTED"]);

export function assessFaceMatch(response: DiditFaceMatchResponse): FaceMatchAssessment {
  const match = response.face_match;
  const status = FACE_MATCH_STATUSES.find((s) => s === match.status);
  if (status === undefined) {
    throw new ToolFailure(
      "invalid_response",
      `Didit answered the face match with status "${match.status.slice(0, 40)}", which is not documented (Approved, Declined or In Review).`,
      MAY_HAVE_BEEN_BILLED_HINT,
    );
  }
  const warnings = warningsOf(match.warnings);
  const noScore = warnings.some((w) => NO_SCORE_TAGS.has(w.risk));
  // Documented quirk: with save_api_request=false a faceless pair scores 0 instead of null; both mean no score.
  const score = noScore ? null : (match.score ?? null);
  const user_image = imageOf(match.user_image);
  const ref_image = imageOf(match.ref_image);
  let next_action: FaceMatchAssessment["next_action"];
  if (status === "In Review") {
    next_action = "review";
  } else {
    const derived = deriveNextAction(status, warnings);
    // A face match never rejects on its own (reject is for liveness attack and blocklist signals).
    next_action = derived === "reject" ? "review" : derived;
  }
  const result: FaceMatchAssessment = {
    request_id: response.request_id,
    status,
    is_match: status === "Approved",
    score,
    next_action,
    summary: summarize(next_action, status, warnings, user_image, ref_image),
    warnings,
    user_image,
    ref_image,
    vendor_data: response.vendor_data ?? null,
    created_at: response.created_at ?? null,
  };
  const metadata = echoedMetadata(response.metadata);
  if (metadata !== undefined) result.metadata = metadata;
  return result;
}

function imageOf(image: DiditFaceMatchResponse["face_match"]["user_image"]): FaceMatchImage {
  const faces = (image?.entities ?? []).map((e) => ({
    bbox: e.bbox ?? null,
    confidence: e.confidence ?? null,
  }));
  return { faces_detected: faces.length, faces, best_angle: image?.best_angle ?? null };
}

/** One sentence an agent can relay; it names which photo to retake but never the score behind a review. */
function summarize(
  action: FaceMatchAssessment["next_action"],
  status: FaceMatchStatus,
  warnings: readonly LivenessWarning[],
  user: FaceMatchImage,
  ref: FaceMatchImage,
): string {
  switch (action) {
    case "proceed":
      return "The selfie matches the reference photo.";
    case "retake": {
      if (user.faces_detected === 0 && ref.faces_detected > 0) {
        return "No face could be found in the selfie, so it could not be compared: please take a new selfie with your whole face in the frame and try again.";
      }
      if (ref.faces_detected === 0 && user.faces_detected > 0) {
        return "No face could be found in the reference photo (the ID portrait), so it could not be compared: please take a sharp, glare-free photo of the photo page of your ID and try again.";
      }
      return `The photos could not be compared: ${retakeAdvice(warnings, "please take new, well-lit photos and try again.")}`;
    }
    case "review":
      return status === "Approved"
        ? "The selfie matches the reference photo, but the verification needs a manual review before you continue."
        : "We could not confirm automatically that the selfie and the reference photo show the same person; it needs a manual review before you continue.";
  }
}
