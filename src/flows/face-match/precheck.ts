import { ToolFailure } from "../../core/errors.js";
import type { EngineLocations } from "../../precheck/index.js";
import { lowerFirst } from "../steps.js";
import type { PrecheckImage } from "./verify.js";

/**
 * verify_selfie's `precheck: true`, loaded lazily like precheck_face_image. When the engine is not installed the
 * call is refused rather than skipped: the caller asked to guard credits, so going ahead would break that promise.
 */
export function createImagePrecheck(engine: EngineLocations | undefined): PrecheckImage {
  return async (image, signal) => {
    const precheck = await import("../../precheck/index.js");
    try {
      await precheck.assertPrecheckEngineInstalled(engine);
    } catch (error) {
      if (!(error instanceof ToolFailure)) throw error;
      throw new ToolFailure(
        error.code,
        `precheck: true was asked for, but ${lowerFirst(error.message)} Nothing was uploaded.`,
        `${error.hint} Or call again without precheck to skip the on-device check.`,
      );
    }
    return precheck.createPrecheckAnalyzer(engine).analyze(image.bytes, { signal });
  };
}
