import { ToolFailure, type UploadState } from "../../core/errors.js";
import type { DiditClient, FaceMatchParams, LivenessParams } from "../../didit/client.js";
import { imageOptions, type LoadedImage } from "../../images/load-image.js";
import type { LocalAnalysis } from "../../precheck/types.js";
import type { NextAction } from "../../warnings/types.js";
import { assessLiveness } from "../liveness/assess.js";
import type { LivenessAssessment } from "../liveness/result.js";
import { validThreshold } from "../liveness/threshold.js";
import { lowerFirst, markSandbox, noClientFailure, stricterAction, withImageSlot } from "../steps.js";
import { assessFaceMatch } from "./assess.js";
import { type ImagePair, loadImagePair } from "./images.js";
import { type FaceFlowCall, type FaceFlowDeps, type FaceMatchRequest, faceMatchParams } from "./match.js";
import type { FaceMatchAssessment, PrecheckSummary, SelfieVerification } from "./result.js";

/** Analyses one image on this machine; throws not_configured when the optional engine is not installed. */
export type PrecheckImage = (image: LoadedImage, signal: AbortSignal | undefined) => Promise<LocalAnalysis>;

export interface VerifyDeps extends FaceFlowDeps {
  /** The on-device pre-check; undefined where it cannot run (then `precheck: true` is refused). */
  precheck?: PrecheckImage | undefined;
}

export interface SelfieVerificationRequest extends FaceMatchRequest {
  face_liveness_score_decline_threshold?: number | undefined;
  precheck?: boolean | undefined;
}

/**
 * Didit's combined workflow in one call: liveness on the selfie first, and only if it is Approved and its own
 * assessment says proceed or review a face match of the selfie against the reference (an ID portrait), so a spoof,
 * a blocklisted face or a bad photo never costs a second credit.
 * Both images and every field are validated, the optional pre-check run, consent asked once and two checks of
 * the budget reserved before anything is uploaded; a cancel after the liveness answer makes no second call.
 */
export async function runSelfieVerification(
  deps: VerifyDeps,
  request: SelfieVerificationRequest,
  call: FaceFlowCall = {},
): Promise<SelfieVerification> {
  const client = deps.client;
  if (!client) throw noClientFailure();
  // Every field is checked before a slot is taken or an image is read: a bad field costs nothing.
  const matchParams = faceMatchParams(request);
  const livenessParams: LivenessParams = {
    face_liveness_score_decline_threshold: validThreshold(request.face_liveness_score_decline_threshold),
    rotate_image: matchParams.rotate_image,
    save_api_request: matchParams.save_api_request,
    vendor_data: matchParams.vendor_data,
    metadata: matchParams.metadata,
  };
  return withImageSlot(deps, call, async (upload) => {
    call.onProgress?.("Validating both images");
    const images = await loadImagePair(request, await imageOptions(deps, call.signal), call.onImageLoaded);
    return verifyLoaded(deps, client, images, livenessParams, matchParams, request, call, upload);
  });
}

async function verifyLoaded(
  deps: VerifyDeps,
  client: DiditClient,
  images: ImagePair,
  livenessParams: LivenessParams,
  matchParams: FaceMatchParams,
  request: SelfieVerificationRequest,
  call: FaceFlowCall,
  upload: UploadState,
): Promise<SelfieVerification> {
  if (request.precheck === true) {
    const stopped = await runPrecheck(deps, images.user, images.ref, call);
    if (stopped) return stopped;
  }

  await deps.confirmUpload?.(
    [images.user, images.ref],
    call.signal ?? new AbortController().signal,
    "for a liveness check and, only if it passes, a face match? It costs up to two credits",
  );
  // Both checks are reserved together: a budget with room for only one must not buy a liveness with no match.
  await deps.reserveCheck?.(2);
  const credit = deps.sandbox ? 0 : 1;
  upload.started = true;

  const { assessment: liveness, summary: livenessSummary } = await livenessStep(
    deps,
    client,
    images,
    livenessParams,
    call,
  );
  if (!livenessAllowsMatch(liveness)) {
    await deps.releaseCheck?.(1);
    return withoutMatch(deps, liveness, livenessSummary, credit);
  }

  const spent = deps.sandbox
    ? "The liveness check before it was answered (sandbox: no credit used)"
    : `The liveness check before it was answered and used one credit (request_id ${liveness.request_id})`;
  if (call.signal?.aborted) {
    await deps.releaseCheck?.(1);
    throw new ToolFailure(
      "cancelled",
      `The verification was cancelled by the client after the liveness check; no face match was requested. ${spent}.`,
      "Call verify_selfie again only if you still need a verdict; it repeats the liveness check (one more credit).",
    );
  }

  const { assessment: faceMatch, summary: matchSummary } = await matchStep(
    deps,
    client,
    images,
    matchParams,
    call,
    spent,
  );
  const next_action = stricterAction(liveness.next_action, faceMatch.next_action);
  // Verified means "go ahead": never beside a review (Approved answers can still carry tags a human must see).
  const verified = faceMatch.status === "Approved" && next_action === "proceed";
  const result: SelfieVerification = {
    identity_verified: verified,
    next_action,
    summary: combinedSummary(next_action, faceMatch.status, matchSummary),
    liveness,
    face_match: faceMatch,
    face_match_skipped_reason: null,
    credits_used: deps.sandbox ? 0 : 2,
  };
  return markSandbox(result, deps.sandbox);
}

/** A step's assessment, and its summary from before markSandbox labels it: the combined result is labelled once. */
interface Step<A> {
  assessment: A;
  summary: string;
}

/** Step 1: the selfie's liveness; its reserved credit goes back when the check fails. */
async function livenessStep(
  deps: VerifyDeps,
  client: DiditClient,
  images: ImagePair,
  livenessParams: LivenessParams,
  call: FaceFlowCall,
): Promise<Step<LivenessAssessment>> {
  try {
    call.onProgress?.("Step 1 of 2: liveness check on the selfie");
    const response = await client.checkPassiveLiveness(images.user, livenessParams, call);
    const assessed = assessLiveness(response, { includeFaceAttributes: false });
    // The summary first: markSandbox labels the assessment in place.
    const { summary } = assessed;
    return { assessment: markSandbox(assessed, deps.sandbox), summary };
  } catch (error) {
    await deps.releaseCheck?.(1);
    throw error;
  }
}

/** The verification when the liveness does not allow a match: not verified, one credit at most. */
function withoutMatch(
  deps: VerifyDeps,
  liveness: LivenessAssessment,
  livenessSummary: string,
  credit: number,
): SelfieVerification {
  const result: SelfieVerification = {
    identity_verified: false,
    next_action: liveness.next_action,
    summary: livenessSummary,
    liveness,
    face_match: null,
    face_match_skipped_reason: `The liveness check was ${liveness.status} with next_action ${liveness.next_action}, so no face match was requested and no second credit was spent.`,
    credits_used: credit,
  };
  return markSandbox(result, deps.sandbox);
}

/** Step 2: the face match; a failure says the liveness credit is already spent (`spent`). */
async function matchStep(
  deps: VerifyDeps,
  client: DiditClient,
  images: ImagePair,
  matchParams: FaceMatchParams,
  call: FaceFlowCall,
  spent: string,
): Promise<Step<FaceMatchAssessment>> {
  try {
    call.onProgress?.("Step 2 of 2: comparing the selfie with the reference");
    const response = await client.matchFaces(images.user, images.ref, matchParams, call);
    const assessed = assessFaceMatch(response);
    // The summary first: markSandbox labels the assessment in place.
    const { summary } = assessed;
    return { assessment: markSandbox(assessed, deps.sandbox), summary };
  } catch (error) {
    if (!(error instanceof ToolFailure)) throw error;
    // Whatever went wrong with the match, the caller must know a liveness credit is already spent.
    throw new ToolFailure(
      error.code,
      `The face match failed: ${error.message} ${spent}; only the face match needs repeating.`,
      `${error.hint} To retry just the second step, call match_faces with the same two images (one credit).`,
      error.retryAfterSeconds,
    );
  }
}

/**
 * A reject or a retake from liveness never gets here (the match is skipped): the liveness step's own assessment,
 * not just Didit's status, decides, since an Approved answer may still carry an attack or blocklist tag.
 */
function livenessAllowsMatch(liveness: LivenessAssessment): boolean {
  return (
    liveness.status === "Approved" &&
    (liveness.next_action === "proceed" || liveness.next_action === "review")
  );
}

function combinedSummary(
  action: NextAction,
  matchStatus: FaceMatchAssessment["status"],
  matchSummary: string,
): string {
  if (matchStatus !== "Approved") {
    return `The selfie passed the liveness check, but ${lowerFirst(matchSummary)}`;
  }
  if (action === "proceed") {
    return "Identity verified: the selfie shows a live person and matches the reference photo.";
  }
  return "The selfie passed the liveness check and matches the reference photo, but the verification needs a manual review before you continue.";
}

async function runPrecheck(
  deps: VerifyDeps,
  user: LoadedImage,
  ref: LoadedImage,
  call: FaceFlowCall,
): Promise<SelfieVerification | undefined> {
  if (!deps.precheck) {
    throw new ToolFailure(
      "not_configured",
      "precheck: true needs the on-device pre-check engine, which is not available here. Nothing was uploaded.",
      "Install the optional engine (see precheck_face_image) and call again, or call without precheck.",
    );
  }
  call.onProgress?.("Pre-checking both images on this machine");
  const selfie = summarizePrecheck(await deps.precheck(user, call.signal));
  const reference = summarizePrecheck(await deps.precheck(ref, call.signal));
  if (selfie.ready && reference.ready) return undefined;
  const which =
    !selfie.ready && !reference.ready ? "both photos" : !selfie.ready ? "the selfie" : "the reference photo";
  const message = (!selfie.ready ? selfie : reference).user_message;
  const result: SelfieVerification = {
    identity_verified: false,
    next_action: "retake",
    summary: `The pre-check on this machine found ${which} not ready, so nothing was uploaded and no credit was used: ${lowerFirst(message)}`,
    liveness: null,
    face_match: null,
    face_match_skipped_reason: `The on-device pre-check stopped the flow before any upload (${which} not ready).`,
    credits_used: 0,
    precheck: { selfie, reference },
  };
  return markSandbox(result, deps.sandbox);
}

function summarizePrecheck(analysis: LocalAnalysis): PrecheckSummary {
  return {
    ready: analysis.ready,
    next_action: analysis.next_action,
    faces_detected: analysis.faces_detected,
    warnings: analysis.warnings.map((w) => w.risk),
    user_message: analysis.user_message,
  };
}
