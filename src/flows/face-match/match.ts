import type { UploadState } from "../../core/errors.js";
import type { CallOptions, FaceMatchParams } from "../../didit/client.js";
import { type ImageObserver, imageOptions, type LoadedImage } from "../../images/load-image.js";
import type { LivenessCheckDeps } from "../liveness/check.js";
import { validMetadata } from "../liveness/metadata.js";
import { validThreshold } from "../liveness/threshold.js";
import { markSandbox, noClientFailure, withImageSlot } from "../steps.js";
import { assessFaceMatch } from "./assess.js";
import { type ImagePairInput, loadImagePair } from "./images.js";
import type { FaceMatchAssessment } from "./result.js";

/** What both face flows need: the liveness check's pieces, with a budget and a consent that cover several images. */
export interface FaceFlowDeps extends Omit<LivenessCheckDeps, "reserveCheck" | "confirmUpload"> {
  /** Reserves `count` checks of the budget at once; throws (or rejects with) rate_limited when they are not left. */
  reserveCheck?: ((count?: number) => void | Promise<void>) | undefined;
  /** Returns reserved checks that were not made; awaited (a shared budget's release is a round trip to Redis). */
  releaseCheck?: ((count?: number) => unknown) | undefined;
  /** One confirmation for every image of the call; throws consent_declined when not given. */
  confirmUpload?:
    | ((images: readonly LoadedImage[], signal: AbortSignal, purpose: string) => Promise<void>)
    | undefined;
}

export interface FaceFlowCall extends CallOptions {
  /** Set when the first upload starts, so a later failure of ours says it may have been billed. */
  upload?: UploadState | undefined;
  /** Told of both photos once loaded (the verdict view). */
  onImageLoaded?: ImageObserver | undefined;
}

export interface FaceMatchRequest extends ImagePairInput, Omit<FaceMatchParams, "metadata"> {
  /** Checked against the metadata bounds, whatever its declared type. */
  metadata?: unknown;
}

/**
 * The face-match flow shared by match_faces and the CLI: validate both images and every field, ask consent once,
 * spend one check of the budget, call Didit, assess. Nothing leaves the machine before all of it is valid.
 */
export async function runFaceMatch(
  deps: FaceFlowDeps,
  request: FaceMatchRequest,
  call: FaceFlowCall = {},
): Promise<FaceMatchAssessment> {
  const client = deps.client;
  if (!client) throw noClientFailure();
  // Every field is checked before a slot is taken or an image is read: a bad field costs nothing.
  const params = faceMatchParams(request);
  return withImageSlot(deps, call, async (upload) => {
    call.onProgress?.("Validating both images");
    const images = await loadImagePair(request, await imageOptions(deps, call.signal), call.onImageLoaded);
    await deps.confirmUpload?.(
      [images.user, images.ref],
      call.signal ?? new AbortController().signal,
      "for a face match? It costs one credit",
    );
    await deps.reserveCheck?.(1);
    upload.started = true;
    const response = await client.matchFaces(images.user, images.ref, params, call);
    return markSandbox(assessFaceMatch(response), deps.sandbox);
  });
}

export function faceMatchParams(request: FaceMatchRequest): FaceMatchParams {
  return {
    face_match_score_decline_threshold: validThreshold(
      request.face_match_score_decline_threshold,
      "face_match_score_decline_threshold",
    ),
    rotate_image: request.rotate_image,
    save_api_request: request.save_api_request,
    vendor_data: request.vendor_data,
    metadata: validMetadata(request.metadata),
  };
}
