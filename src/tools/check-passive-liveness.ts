import { z } from "zod";
import { runLivenessCheck } from "../liveness/check.js";
import { METADATA_LIMITS } from "../liveness/metadata.js";
import { livenessResultSchema } from "../liveness/result.js";
import { MAX_THRESHOLD_DECIMALS, thresholdProblem } from "../liveness/threshold.js";
import { imageInputFields } from "./image-input.js";
import { defineTool, paidToolDescription } from "./tool.js";

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

export const checkTool = defineTool({
  name: CHECK_TOOL_NAME,
  title: "Check passive face liveness (Didit)",
  describe: paidToolDescription(
    "Checks whether a single face photo shows a live person (not a printed photo, screen replay or mask) with Didit's Passive Liveness API. " +
      "It uploads the face image to Didit (verification.didit.me), consumes one Didit credit per answered check, and the check is stored in Didit's Business Console unless save_api_request is false. " +
      "Give the image as image_path (inside the allowed directories), image_base64, or image_url (an https link the server downloads first). " +
      "Act on next_action: proceed, retake (ask for a new photo; the summary says how), review (a human decides) or reject (do not retry). " +
      "Use explain_warning to understand a warning tag.",
  ),
  inputSchema: checkInputSchema,
  outputSchema: livenessResultSchema,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  createHandler: (context) => (input, call) => runLivenessCheck(context, input, call),
});
