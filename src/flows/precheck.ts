import type { InFlightLimit } from "../core/in-flight.js";
import {
  type ImageInput,
  type ImageObserver,
  type ImageSources,
  imageOptions,
  loadImage,
} from "../images/load-image.js";
import type { EngineLocations } from "../precheck/loader.js";
import type { LocalAnalysis, PrecheckOutput } from "../precheck/types.js";

const ADVISORY_CLAUSE = "this is advisory, only Didit's check decides liveness";

/** What a pre-check needs: where images may come from, the shared in-flight bound and the engine's location. */
export interface PrecheckDeps extends ImageSources {
  /** Shared with the other image tools: a slot is taken before the image is loaded and held until the end. */
  inFlight?: InFlightLimit | undefined;
  /** Where the engine's packages and models are; default: installed next to the server. */
  precheckEngine?: EngineLocations | undefined;
}

/** The photo to pre-check, as precheck_face_image takes it. */
export interface PrecheckRequest extends ImageInput {
  rotate_image?: boolean | undefined;
}

/**
 * The pre-check of one photo, shared by the tool and the CLI. It loads the engine (src/precheck/index.ts) on first
 * use only: at start-up only this file and the result schema are loaded, so a server without the optional engine
 * packages starts exactly as before.
 */
export async function precheckFaceImage(
  deps: PrecheckDeps,
  input: PrecheckRequest,
  signal: AbortSignal | undefined,
  onImageLoaded?: ImageObserver,
): Promise<PrecheckOutput> {
  const precheck = await import("../precheck/index.js");
  // Refuse before reading the image when the engine is missing: the fix is an install, not another photo.
  await precheck.assertPrecheckEngineInstalled(deps.precheckEngine);
  const release = deps.inFlight ? await deps.inFlight.acquire(signal) : undefined;
  let analysis: LocalAnalysis;
  try {
    const image = await loadImage(input, await imageOptions(deps, signal));
    onImageLoaded?.("image", image);
    analysis = await precheck
      .createPrecheckAnalyzer(deps.precheckEngine)
      .analyze(image.bytes, { rotate: input.rotate_image === true, signal });
  } finally {
    release?.();
  }
  return { summary: summarize(analysis, input.rotate_image === true), ...analysis };
}

export function summarize(analysis: LocalAnalysis, rotated: boolean): string {
  const tags = analysis.warnings.map((w) => w.risk);
  if (analysis.ready) {
    const face = `${analysis.faces_detected === 1 ? "one face" : `${analysis.faces_detected} faces (the largest is scored)`}, quality ${analysis.face_quality}, luminance ${analysis.face_luminance}`;
    const how = analysis.rotate_image_advised
      ? "with rotate_image: true, since the face lies sideways or upside down"
      : rotated && analysis.best_angle !== 0
        ? "with rotate_image: true"
        : "as it is";
    const tips = tags.length > 0 ? ` (suggestions only: ${tags.join(", ")}; user_message has a tip)` : "";
    return `Local pre-check passed (${face})${tips}: worth submitting to check_passive_liveness ${how}; ${ADVISORY_CLAUSE}.`;
  }
  const sideways =
    !rotated && tags.includes("NO_FACE_DETECTED")
      ? " (if the photo is sideways or upside down, first pre-check it again with rotate_image: true)"
      : "";
  const blocking = analysis.warnings.filter((w) => w.blocking).map((w) => w.risk);
  return `Local pre-check found ${(blocking.length > 0 ? blocking : tags).join(", ")}: do not spend a credit on this photo, relay user_message and ask for a new one${sideways}; ${ADVISORY_CLAUSE}.`;
}
