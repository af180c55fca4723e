import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { UploadState } from "../errors.js";
import { type LivenessCheckDeps, runLivenessCheck } from "../liveness/check.js";
import { METADATA_LIMITS } from "../liveness/metadata.js";
import { MAX_THRESHOLD_DECIMALS, thresholdProblem } from "../liveness/threshold.js";
import { NEXT_ACTIONS } from "../warnings/types.js";
import { imageInputFields } from "./image-input.js";
import { jsonResult } from "./json-result.js";

export const CHECK_TOOL_NAME = "check_passive_liveness";

export const checkInputSchema = z.strictObject({
  ...imageInputFields,
  face_liveness_score_decline_threshold: z
    .number()
    .min(0)
    .max(100)
    .refine((value) => thresholdProblem(value) === undefined, {
      message: `Must have at most ${MAX_THRESHOLD_DECIMALS} decimal places (it is sent as a plain decimal)`,
    })
    .optional()
    .describe(
      `Liveness score (0-100, at most ${MAX_THRESHOLD_DECIMALS} decimal places) at or below which Didit declines with LOW_LIVENESS_SCORE. Default on Didit's side: 30.`,
    ),
  rotate_image: z
    .boolean()
    .optional()
    .describe(
      "Let Didit try 90-degree rotations and score the best one (reported as best_angle). Default: false.",
    ),
  save_api_request: z
    .boolean()
    .optional()
    .describe(
      "Store the check as a session in Didit's Business Console (face enrolled for duplicate search, webhook sent). Default: true; false stores nothing and returns a one-off request_id.",
    ),
  vendor_data: z
    .string()
    .max(1024)
    .optional()
    .describe(
      "Your identifier for the person (a UUID or email); echoed back, and faces with the same vendor_data are excluded from duplicate and blocklist matches. Default: none.",
    ),
  // Declared an object for clients, parsed as unknown: z.record walks and copies every key (12 s for 1.5M keys)
  // before any bound could refuse it, so the bounded walk in runLivenessCheck is the one check.
  metadata: z
    .unknown()
    .meta({ type: "object" })
    .optional()
    .describe(
      `A JSON object stored with the check and echoed back: at most ${METADATA_LIMITS.maxDepth} levels deep, ${METADATA_LIMITS.maxEntries.toLocaleString("en-US")} keys and array elements in all, and 64 KB serialized. Default: none.`,
    ),
  include_face_attributes: z
    .boolean()
    .default(false)
    .describe("Return each detected face's estimated age and gender. Default: false (they are omitted)."),
});
export type CheckInput = z.output<typeof checkInputSchema>;

const nullableNumber = z.number().nullable();

export const checkOutputSchema = z.object({
  request_id: z
    .string()
    .describe("Didit's id for this check (look it up in the Business Console when saved)."),
  status: z
    .enum(["Approved", "Declined"])
    .describe("Didit's verdict; Declined exactly when an error-level warning fired."),
  is_live: z.boolean().describe("True only when status is Approved."),
  next_action: z
    .enum(NEXT_ACTIONS)
    .describe(
      "proceed: continue; retake: ask for a new photo (see summary); review: hand to a human; reject: stop, do not retry.",
    ),
  summary: z.string().describe("One sentence you can relay to the person."),
  score: nullableNumber.describe("Liveness score 0-100, null when no face was found."),
  face_quality: nullableNumber.describe("Face image quality 0-100, null when no face was found."),
  face_luminance: nullableNumber.describe(
    "Face brightness 0-100 (about 50 is normal), null when no face was found.",
  ),
  warnings: z
    .array(
      z.object({
        risk: z.string().describe("The warning tag; branch on it (explain_warning explains it)."),
        log_type: z.string().describe("error (declines), warning or information."),
        short_description: z.string().describe("Didit's short text."),
        long_description: z.string().describe("Didit's long text."),
      }),
    )
    .describe("Didit's warnings, as returned."),
  faces_detected: z.number().int().describe("Number of faces Didit found."),
  faces: z
    .array(
      z.object({
        bbox: z.array(z.number()).nullable().describe("[x1, y1, x2, y2] in pixels"),
        confidence: nullableNumber.describe("Detector confidence 0-1"),
        age: nullableNumber.optional().describe("Estimated age; only with include_face_attributes."),
        gender: z
          .string()
          .nullable()
          .optional()
          .describe("Estimated gender; only with include_face_attributes."),
      }),
    )
    .describe("Detected faces; with several, the largest was scored."),
  best_angle: nullableNumber.describe("Rotation in degrees (0/90/180/270) Didit used."),
  vendor_data: z.string().nullable().describe("Your vendor_data, echoed."),
  metadata: z.unknown().optional().describe("Your metadata, echoed (absent when none)."),
  created_at: z.string().nullable().describe("When Didit made the check (ISO 8601)."),
  sandbox: z
    .boolean()
    .optional()
    .describe("Present and true only in sandbox mode: a mocked, offline result."),
});

export const checkToolConfig = {
  title: "Check passive face liveness (Didit)",
  description:
    "Checks whether a single face photo shows a live person (not a printed photo, screen replay or mask) with Didit's Passive Liveness API. " +
    "It uploads the face image to Didit (verification.didit.me), consumes one Didit credit per answered check, and the check is stored in Didit's Business Console unless save_api_request is false. " +
    "Give the image as image_path (inside the allowed directories), image_base64, or image_url (an https link the server downloads first). " +
    "Act on next_action: proceed, retake (ask for a new photo; the summary says how), review (a human decides) or reject (do not retry). " +
    "Use explain_warning to understand a warning tag.",
  inputSchema: checkInputSchema,
  outputSchema: checkOutputSchema,
  annotations: {
    title: "Check passive face liveness (Didit)",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: true,
  },
};

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export function createCheckHandler(deps: LivenessCheckDeps) {
  return async (input: CheckInput, extra: ToolExtra, upload?: UploadState): Promise<CallToolResult> => {
    const assessment = await runLivenessCheck(deps, input, {
      signal: extra.signal,
      onProgress: progressReporter(extra),
      upload,
    });
    return jsonResult(checkOutputSchema, assessment);
  };
}

/** Sends notifications/progress when the client asked for them with a progress token; otherwise a no-op. */
export function progressReporter(extra: ToolExtra): (message: string) => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => {};
  let step = 0;
  return (message) => {
    step += 1;
    extra
      .sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress: step, message },
      })
      .catch(() => {});
  };
}
