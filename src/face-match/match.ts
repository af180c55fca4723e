import type { CallOptions, DiditClient, FaceMatchParams } from "../didit/client.js";
import type { LoadedImage } from "../images/load-image.js";
import { noClientFailure, validMetadata } from "../liveness/check.js";
import { assessFaceMatch, type FaceMatchAssessment } from "./assess.js";
import { type ImagePairInput, loadImagePair } from "./images.js";

/** What both face flows need; the same pieces the liveness check gets, so budget and consent are shared. */
export interface FaceFlowDeps {
  allowedDirs: () => Promise<readonly string[]>;
  allowHardlinks?: boolean | undefined;
  /** Undefined when no API key is configured (and no sandbox). */
  client: DiditClient | undefined;
  /** True when `client` is the offline sandbox responder: results say they are not real verdicts. */
  sandbox?: boolean | undefined;
  /** Reserves `count` checks of the per-process budget at once; throws rate_limited when they are not left. */
  reserveCheck?: ((count?: number) => void) | undefined;
  /** Returns reserved checks that were not made. */
  releaseCheck?: ((count?: number) => void) | undefined;
  /** One confirmation for every image of the call; throws consent_declined when not given. */
  confirmUpload?:
    | ((images: readonly LoadedImage[], signal: AbortSignal, purpose: string) => Promise<void>)
    | undefined;
}

export interface FaceMatchRequest extends ImagePairInput, FaceMatchParams {}

/** Labels a sandboxed result so nobody mistakes it for a verdict. */
export const SANDBOX_LABEL = "[Sandbox: mocked result, not a real verdict]";

/**
 * The face-match flow shared by match_faces and the CLI: validate both images and every field, ask consent once,
 * spend one check of the budget, call Didit, assess. Nothing leaves the machine before all of it is valid.
 */
export async function runFaceMatch(
  deps: FaceFlowDeps,
  request: FaceMatchRequest,
  call: CallOptions = {},
): Promise<FaceMatchAssessment> {
  if (!deps.client) throw noClientFailure();
  call.onProgress?.("Validating both images");
  const images = await loadImagePair(request, {
    allowedDirs: await deps.allowedDirs(),
    allowHardlinks: deps.allowHardlinks,
  });
  const params = faceMatchParams(request);
  await deps.confirmUpload?.(
    [images.user, images.ref],
    call.signal ?? new AbortController().signal,
    "for a face match? It costs one credit",
  );
  deps.reserveCheck?.(1);
  const response = await deps.client.matchFaces(images.user, images.ref, params, call);
  return markSandbox(assessFaceMatch(response), deps.sandbox);
}

export function faceMatchParams(request: FaceMatchParams): FaceMatchParams {
  return {
    face_match_score_decline_threshold: request.face_match_score_decline_threshold,
    rotate_image: request.rotate_image,
    save_api_request: request.save_api_request,
    vendor_data: request.vendor_data,
    metadata: validMetadata(request.metadata),
  };
}

export function markSandbox<T extends { summary: string; sandbox?: true }>(result: T, sandbox?: boolean): T {
  if (sandbox) {
    result.sandbox = true;
    result.summary = `${SANDBOX_LABEL} ${result.summary}`;
  }
  return result;
}
