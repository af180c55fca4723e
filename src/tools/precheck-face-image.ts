import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { type LoadImageOptions, loadImage } from "../images/load-image.js";
import type { UrlPolicy } from "../images/url-policy.js";
import type { InFlightLimit } from "../in-flight.js";
import type { EngineLocations, LocalAnalysis } from "../precheck/index.js";
import type { ToolExtra } from "./check-passive-liveness.js";
import { imageInputFields } from "./image-input.js";

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

const ADVISORY = "Advisory only: only Didit's check (check_passive_liveness) decides liveness.";
const ADVISORY_CLAUSE = "this is advisory, only Didit's check decides liveness";

export const precheckOutputSchema = z.object({
  summary: z.string().describe(`One sentence for the agent. ${ADVISORY}`),
  engine: z
    .literal("local")
    .describe("Analysed on this machine; nothing was sent anywhere and no credit was used."),
  ready: z
    .boolean()
    .describe("True when nothing found locally stands in the way of submitting the photo to Didit."),
  next_action: z
    .enum(["proceed", "retake"])
    .describe(
      "proceed: submit the photo with check_passive_liveness; retake: relay user_message and ask for a new photo.",
    ),
  faces_detected: z.number().int(),
  bbox: z
    .tuple([z.number(), z.number(), z.number(), z.number()])
    .nullable()
    .describe("The largest face, [x1, y1, x2, y2] in pixels of the upright image turned by best_angle."),
  face_size_px: z.object({ width: z.number(), height: z.number() }).nullable(),
  face_confidence: z.number().nullable().describe("Face detector confidence 0-1."),
  face_luminance: z
    .number()
    .nullable()
    .describe(
      "Local estimate on Didit's face_luminance scale (it may differ from Didit's own value): mean luma of the face box, 0-100, about 50 is normal. Below 20 or above 85 gets a suggestion; below 12 or above 92 a retake.",
    ),
  face_quality: z
    .number()
    .nullable()
    .describe(
      "Local estimate on Didit's face_quality scale (it may differ from Didit's own value), 0-100: weighted geometric mean of quality_factors (sharpness 0.4, size, exposure, confidence 0.2 each). Below 40 gets a LOW_FACE_QUALITY suggestion; below 20 (heavy blur) a retake.",
    ),
  quality_factors: z
    .object({ sharpness: z.number(), size: z.number(), exposure: z.number(), confidence: z.number() })
    .nullable(),
  best_angle: z
    .union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)])
    .describe(
      "Clockwise degrees the upright photo was turned for analysis; 0 unless rotate_image found better.",
    ),
  rotate_image_advised: z
    .boolean()
    .describe(
      "The face lies sideways or upside down in the photo as sent (whether or not rotate_image was on): submit with rotate_image: true.",
    ),
  warnings: z.array(
    z.object({
      risk: z
        .string()
        .describe(
          "Didit's tag where one fits; FACE_TOO_SMALL and SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION are local-only. explain_warning explains each.",
        ),
      short_description: z.string(),
      blocking: z
        .boolean()
        .describe(
          "true: this warning makes ready false (retake); false: a suggestion, the photo can be submitted as it is.",
        ),
    }),
  ),
  user_message: z
    .string()
    .describe(
      "What to tell the person, in plain words: what to do when ready is false, a tip when a warning is only a suggestion.",
    ),
  spoof_estimate: z
    .number()
    .nullable()
    .describe(
      `On-device anti-spoofing hint, 0-100, higher = more likely a live capture: the lowest of the faces at least a quarter of the largest's area (a screen held up beside a live face pulls it down); never a verdict and never a reason to reject. ${ADVISORY}`,
    ),
  faces: z
    .array(
      z.object({
        bbox: z
          .tuple([z.number(), z.number(), z.number(), z.number()])
          .describe("[x1, y1, x2, y2] in pixels of the upright image turned by best_angle."),
        confidence: z.number().describe("Face detector confidence 0-1."),
        relative_area: z.number().describe("This face's area over the largest face's, 0-1."),
        spoof_estimate: z
          .number()
          .nullable()
          .describe("This face's own on-device anti-spoofing hint, 0-100 (advisory, like spoof_estimate)."),
      }),
    )
    .describe("Every face found (up to 5), largest first; Didit scores only the first."),
  spoof_model: z.string().describe("The model behind spoof_estimate."),
  image_size: z.object({ width: z.number(), height: z.number() }),
  elapsed_ms: z.number().describe("Time spent analysing, in milliseconds."),
});
export type PrecheckOutput = z.output<typeof precheckOutputSchema>;

export const precheckToolConfig = {
  title: "Pre-check a face photo on this machine",
  description:
    "Checks a face photo on this machine before you spend a Didit credit: nothing is uploaded and it is free. " +
    "Give the image as image_path (inside the allowed directories), image_base64 or image_url (downloaded by the server), like check_passive_liveness. " +
    "Reports the faces found, the largest face's box and size, face_luminance and face_quality (0-100), best_angle (with rotate_image), " +
    "warnings in Didit's vocabulary (NO_FACE_DETECTED, MULTIPLE_FACES_DETECTED, LOW_FACE_QUALITY, LOW_FACE_LUMINANCE, HIGH_FACE_LUMINANCE) plus the local-only FACE_TOO_SMALL and SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION (another face in the frame looks like a screen or a print), " +
    "and next_action: proceed (submit with check_passive_liveness) or retake (relay user_message, ask for a new photo). " +
    "A warning with blocking: false is only a suggestion (ready stays true; user_message carries the tip). " +
    "spoof_estimate is an advisory on-device anti-spoofing hint (the lowest of the faces that matter; faces[] has each face's), never a verdict: only Didit's check decides liveness. " +
    "Needs the optional on-device engine; without it the tool answers not_configured with the install command.",
  inputSchema: precheckInputSchema,
  outputSchema: precheckOutputSchema,
  annotations: {
    title: "Pre-check a face photo on this machine",
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    // image_url has the server download from a host the caller names.
    openWorldHint: true,
  },
};

export interface PrecheckDeps {
  /** The directories image_path may read from. */
  allowedDirs: () => Promise<readonly string[]>;
  /** Read image files with more than one hard link (--allow-hardlinks). */
  allowHardlinks?: boolean | undefined;
  /** Which image_url hosts may be fetched (--allow-url-host); default: https to public addresses. */
  urlPolicy?: UrlPolicy | undefined;
  /** Test seams for image_url: resolver and deadline. */
  urlFetch?: LoadImageOptions["urlFetch"];
  /** Where the engine's packages and models are; default: installed next to the server. Tests override it. */
  engine?: EngineLocations | undefined;
  /** Shared with check_passive_liveness: a slot is taken before the image is loaded and held until the analysis ends. */
  inFlight?: InFlightLimit | undefined;
}

/**
 * The handler loads the engine module on first use only: nothing under src/precheck is imported at start-up,
 * so a server without the optional engine packages starts exactly as before.
 */
export function createPrecheckHandler(deps: PrecheckDeps) {
  return async (input: PrecheckInput, extra: ToolExtra): Promise<CallToolResult> => {
    const precheck = await import("../precheck/index.js");
    // Refuse before reading the image when the engine is missing: the fix is an install, not another photo.
    await precheck.assertPrecheckEngineInstalled(deps.engine);
    const release = deps.inFlight ? await deps.inFlight.acquire(extra.signal) : undefined;
    let analysis: LocalAnalysis;
    try {
      const image = await loadImage(input, {
        allowedDirs: await deps.allowedDirs(),
        allowHardlinks: deps.allowHardlinks,
        urlPolicy: deps.urlPolicy,
        urlFetch: deps.urlFetch,
        signal: extra.signal,
      });
      analysis = await precheck
        .createPrecheckAnalyzer(deps.engine)
        .analyze(image.bytes, { rotate: input.rotate_image === true, signal: extra.signal });
    } finally {
      release?.();
    }
    const result: PrecheckOutput = { summary: summarize(analysis, input.rotate_image === true), ...analysis };
    return {
      content: [{ type: "text", text: JSON.stringify(result) }],
      structuredContent: result as unknown as Record<string, unknown>,
    };
  };
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
