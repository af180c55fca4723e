import type { UploadState } from "../../core/errors.js";
import type { InFlightLimit } from "../../core/in-flight.js";
import type { DiditClient, LivenessParams } from "../../didit/client.js";
import {
  type ImageInput,
  type ImageObserver,
  type ImageSources,
  imageOptions,
  type LoadedImage,
  loadImage,
} from "../../images/load-image.js";
import { markSandbox, noClientFailure, withImageSlot } from "../steps.js";
import { assessLiveness } from "./assess.js";
import { validMetadata } from "./metadata.js";
import type { LivenessAssessment } from "./result.js";
import { validThreshold } from "./threshold.js";

export interface LivenessCheckRequest extends ImageInput, Omit<LivenessParams, "metadata"> {
  /** Checked here against the metadata bounds, whatever its declared type (the tool's schema accepts any value). */
  metadata?: unknown;
  include_face_attributes?: boolean | undefined;
}

/** A caller's answer to hold an upload back: nothing is sent, and the flow returns this instead of a verdict. */
export interface UploadHeld<H> {
  readonly held: H;
}

/** What the flow ends with when its caller may hold the upload back: a verdict, or the caller's own reason. */
export type LivenessOutcome<H> = { readonly assessment: LivenessAssessment } | UploadHeld<H>;

export interface LivenessCheckDeps<H = never> extends ImageSources {
  /** Undefined when no API key is configured (and no sandbox). */
  client: DiditClient | undefined;
  /** True when `client` is the offline sandbox responder: results say they are not real verdicts. */
  sandbox?: boolean;
  /** Throws (or rejects with) rate_limited when the budget is spent. */
  reserveCheck?: () => void | Promise<void>;
  /**
   * Asks the user before an upload when consent is required; throws consent_declined otherwise. A caller of
   * `runLivenessCheckOrHold` may instead answer `{ held }` to keep the upload back as a value (the batch's "not started").
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: the MCP consent hook resolves to nothing when it goes ahead
  confirmUpload?: ((image: LoadedImage, signal: AbortSignal) => Promise<void | UploadHeld<H>>) | undefined;
  /** Bounds the checks holding an image at once; a slot is taken before the image is loaded. */
  inFlight?: InFlightLimit | undefined;
}

export interface CheckCall {
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
  /** Set when the upload starts, so the caller can tell a possibly billed failure from an unbilled one. */
  upload?: UploadState | undefined;
  /** Told of the photo once loaded (the verdict view); nothing is held unless it asks. */
  onImageLoaded?: ImageObserver | undefined;
}

/**
 * The one liveness flow shared by the MCP tool and the CLI: validate the image, ask consent, spend budget, call
 * Didit, assess. Nothing leaves the machine before the image and every field have been validated.
 */
export async function runLivenessCheck(
  deps: LivenessCheckDeps,
  request: LivenessCheckRequest,
  call: CheckCall = {},
): Promise<LivenessAssessment> {
  const outcome = await runLivenessCheckOrHold(deps, request, call);
  // A bug, not a user's failure: without a type to hold with, confirmUpload can only go ahead or throw.
  if (!("assessment" in outcome))
    throw new Error("An upload was held by a caller that takes no held outcome.");
  return outcome.assessment;
}

/** The same flow, for a caller whose confirmUpload may hold the upload back: its reason comes back as a value. */
export async function runLivenessCheckOrHold<H>(
  deps: LivenessCheckDeps<H>,
  request: LivenessCheckRequest,
  call: CheckCall = {},
): Promise<LivenessOutcome<H>> {
  const client = deps.client;
  if (!client) throw noClientFailure();
  // Every field is checked before a slot is taken or the image is read (or an image_url fetched): a bad field costs nothing.
  const params: LivenessParams = {
    face_liveness_score_decline_threshold: validThreshold(request.face_liveness_score_decline_threshold),
    rotate_image: request.rotate_image,
    save_api_request: request.save_api_request,
    vendor_data: request.vendor_data,
    metadata: validMetadata(request.metadata),
  };
  return withImageSlot(deps, call, async (upload) => {
    call.onProgress?.("Validating the image");
    const image = await loadImage(request, await imageOptions(deps, call.signal));
    call.onImageLoaded?.("image", image);
    const held = await deps.confirmUpload?.(image, call.signal ?? new AbortController().signal);
    if (held) return held;
    await deps.reserveCheck?.();
    // Conservative on purpose: from here a failure may have been billed, even one raised before the first byte left.
    upload.started = true;
    const response = await client.checkPassiveLiveness(image, params, call);
    const assessment = assessLiveness(response, {
      includeFaceAttributes: request.include_face_attributes ?? false,
    });
    return { assessment: markSandbox(assessment, deps.sandbox) };
  });
}
