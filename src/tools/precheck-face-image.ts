import { z } from "zod";
import { loadImage } from "../images/load-image.js";
import { type LocalAnalysis, type PrecheckOutput, precheckResultSchema } from "../precheck/types.js";
import { imageInputFields } from "./image-input.js";
import { defineTool, type ToolContext } from "./tool.js";

export const PRECHECK_TOOL_NAME = "precheck_face_image";

export const precheckInputSchema = z.strictObject({
  ...imageInputFields,
  rotate_image: z
    .boolean()
    .optional()
    .describe(
      "Also try the photo turned 90, 180 and 270 degrees and analyse the best (reported as best_angle), like check_passive_liveness's rotate_image. EXIF orientation is always applied. Default: false.",
    ),
});
export type PrecheckInput = z.output<typeof precheckInputSchema>;

const ADVISORY_CLAUSE = "this is advisory, only Didit's check decides liveness";

export const precheckTool = defineTool({
  name: PRECHECK_TOOL_NAME,
  title: "Pre-check a face photo on this machine",
  // Never mocked by the sandbox: it always analyses the photo on this machine.
  describe: () =>
    "Checks a face photo on this machine before you spend a Didit credit: nothing is uploaded and it is free. " +
    "Give the image as image_path (inside the allowed directories), image_base64 or image_url (downloaded by the server), like check_passive_liveness. " +
    "Reports the faces found, the largest face's box and size, face_luminance and face_quality (0-100), best_angle (with rotate_image), " +
    "warnings in Didit's vocabulary (NO_FACE_DETECTED, MULTIPLE_FACES_DETECTED, LOW_FACE_QUALITY, LOW_FACE_LUMINANCE, HIGH_FACE_LUMINANCE) plus the local-only FACE_TOO_SMALL and SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION (another face in the frame looks like a screen or a print), " +
    "and next_action: proceed (submit with check_passive_liveness) or retake (relay user_message, ask for a new photo). " +
    "A warning with blocking: false is only a suggestion (ready stays true; user_message carries the tip). " +
    "spoof_estimate is an advisory on-device anti-spoofing hint (the lowest of the faces that matter; faces[] has each face's), never a verdict: only Didit's check decides liveness. " +
    "Needs the optional on-device engine; without it the tool answers not_configured with the install command.",
  inputSchema: precheckInputSchema,
  outputSchema: precheckResultSchema,
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    // image_url has the server download from a host the caller names.
    openWorldHint: true,
  },
  createHandler: (context) => (input, call) => precheckFaceImage(context, input, call.signal),
});

/** What a pre-check needs: where images may come from, the shared in-flight bound and the engine's location. */
export type PrecheckDeps = Pick<
  ToolContext,
  "allowedDirs" | "allowHardlinks" | "urlPolicy" | "urlFetch" | "inFlight" | "precheckEngine"
>;

/**
 * The pre-check of one photo, shared by the tool and the CLI. It loads the engine module on first use only:
 * nothing under src/precheck/ but its types is imported at start-up, so a server without the optional engine
 * packages starts exactly as before.
 */
export async function precheckFaceImage(
  deps: PrecheckDeps,
  input: PrecheckInput,
  signal: AbortSignal | undefined,
): Promise<PrecheckOutput> {
  const precheck = await import("../precheck/index.js");
  // Refuse before reading the image when the engine is missing: the fix is an install, not another photo.
  await precheck.assertPrecheckEngineInstalled(deps.precheckEngine);
  const release = deps.inFlight ? await deps.inFlight.acquire(signal) : undefined;
  let analysis: LocalAnalysis;
  try {
    const image = await loadImage(input, {
      allowedDirs: await deps.allowedDirs(),
      allowHardlinks: deps.allowHardlinks,
      urlPolicy: deps.urlPolicy,
      urlFetch: deps.urlFetch,
      signal,
    });
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
