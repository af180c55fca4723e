import { z } from "zod";
import { PRECHECK_TOOL_NAME } from "../../config/tool-names.js";
import { precheckFaceImage } from "../../flows/precheck.js";
import { precheckResultSchema } from "../../precheck/types.js";
import { imageInputFields } from "./input-fields.js";
import { defineTool } from "./tool.js";

export { PRECHECK_TOOL_NAME };

export const precheckInputSchema = z.strictObject({
  ...imageInputFields,
  rotate_image: z
    .boolean()
    .optional()
    .describe(
      "Also try the photo turned 90, 180 and 270 degrees and analyse the best (reported as best_angle), like check_passive_liveness's rotate_image. EXIF orientation is always applied. Default: false.",
    ),
});

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
  view: true,
  annotations: {
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    // image_url has the server download from a host the caller names.
    openWorldHint: true,
  },
  createHandler: (context) => (input, call) =>
    precheckFaceImage(context, input, call.signal, call.onImageLoaded),
});
