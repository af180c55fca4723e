import { z } from "zod";
import { METADATA_LIMITS } from "../../flows/liveness/metadata.js";
import { MAX_THRESHOLD_DECIMALS, thresholdProblem } from "../../flows/liveness/threshold.js";
import { MAX_IMAGE_BYTES } from "../../images/limits.js";

// The input fields of every tool that calls Didit (check_passive_liveness, match_faces, verify_selfie), defined
// once so each tool gets the same bounds and the same words; the flows re-check the bounds for the CLI's sake.

/** Base64 of 5 MB plus room for a data-URL prefix and MIME line breaks; longer text cannot be a valid image. */
export const MAX_BASE64_CHARS = Math.ceil(MAX_IMAGE_BYTES / 3) * 4 + 256 * 1024;

/** URLs longer than this are refused in the schema; presigned links run to about 2 KB. */
export const MAX_IMAGE_URL_CHARS = 8192;

/**
 * An image given by URL, fetched under the SSRF rules of src/images/url-fetch.ts. A tool taking several images
 * (user_image_url, ref_image_url) reuses this definition with its own description.
 */
export const imageUrlField = z
  .string()
  .min(1)
  .max(MAX_IMAGE_URL_CHARS, `the URL is longer than ${MAX_IMAGE_URL_CHARS} characters`);

type ImageFields<P extends string> = {
  [K in `${P}image_path` | `${P}image_base64` | `${P}image_url`]: z.ZodOptional<z.ZodString>;
};

/**
 * The one definition of an image argument: `<prefix>image_path` | `<prefix>image_base64` | `<prefix>image_url`,
 * with the same rules for every tool (loadImage enforces exactly one). `what` names the photo in the descriptions.
 */
export function imageInputFieldsFor<P extends "" | "user_" | "ref_">(
  prefix: P,
  what = "face photo",
): ImageFields<P> {
  const pathField = `${prefix}image_path`;
  const base64Field = `${prefix}image_base64`;
  const urlField = `${prefix}image_url`;
  const exactlyOne = `Give exactly one of ${pathField}, ${base64Field} or ${urlField}.`;
  return {
    [pathField]: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe(
        `Path of the ${what}, a JPEG, PNG, WebP or TIFF file (at most 5 MB; HEIC is refused: export it as JPEG first) inside one of the server's allowed directories. Relative paths resolve against the first allowed directory; ~ expands. ${exactlyOne}`,
      ),
    [base64Field]: z
      .string()
      .min(1)
      .max(
        MAX_BASE64_CHARS,
        `${base64Field} is longer than ${MAX_BASE64_CHARS} characters, so the image exceeds 5 MB`,
      )
      .optional()
      .describe(
        `The ${what} as raw base64 or a data:image/...;base64, URL; the decoded image must be JPEG, PNG, WebP or TIFF and at most 5 MB (5,242,880 bytes). ${exactlyOne}`,
      ),
    [urlField]: imageUrlField
      .optional()
      .describe(
        `An https:// URL of the ${what} (e.g. a presigned S3/GCS link or a CDN asset) that the server downloads: JPEG, PNG, WebP or TIFF, at most 5 MB, within 10 s and 3 redirects. Private, loopback and link-local addresses are refused unless the operator listed the host. ${exactlyOne}`,
      ),
  } as ImageFields<P>;
}

/** The image fields every single-image tool takes. */
export const imageInputFields = imageInputFieldsFor("");

/** The selfie and the reference photo of match_faces and verify_selfie. */
export const imagePairFields = {
  ...imageInputFieldsFor("user_", "selfie"),
  ...imageInputFieldsFor("ref_", "reference photo, typically the ID document's portrait,"),
};

/** A 0-100 decline threshold Didit takes as a plain decimal, so at most MAX_THRESHOLD_DECIMALS places. */
function declineThresholdField(description: string) {
  return z
    .number()
    .min(0)
    .max(100)
    .refine((value) => thresholdProblem(value) === undefined, {
      message: `Must have at most ${MAX_THRESHOLD_DECIMALS} decimal places (it is sent as a plain decimal)`,
    })
    .optional()
    .describe(description);
}

export const livenessThresholdField = declineThresholdField(
  `Liveness score (0-100, at most ${MAX_THRESHOLD_DECIMALS} decimal places) at or below which Didit declines the selfie with LOW_LIVENESS_SCORE. Default on Didit's side: 30.`,
);

export const faceMatchThresholdField = declineThresholdField(
  `Similarity score (0-100, at most ${MAX_THRESHOLD_DECIMALS} decimal places) at or below which Didit declines the match with LOW_FACE_MATCH_SIMILARITY; only a score strictly above it approves. Default on Didit's side: 30.`,
);

/** The optional Didit request fields every paid tool takes: rotate_image, save_api_request, vendor_data, metadata. */
export const diditRequestFields = {
  rotate_image: z
    .boolean()
    .optional()
    .describe(
      "Let Didit try 90-degree rotations of the image(s) and use the best (reported as best_angle). Default: false.",
    ),
  save_api_request: z
    .boolean()
    .optional()
    .describe(
      "Store the call(s) as sessions in Didit's Business Console (a liveness check also enrols the face for duplicate search and sends a webhook). Default: true; false stores nothing and returns one-off request_ids.",
    ),
  vendor_data: z
    .string()
    .max(1024)
    .optional()
    .describe(
      "Your identifier for the person (a UUID or email); echoed back. In a liveness check, faces with the same vendor_data are excluded from duplicate and blocklist matches. Default: none.",
    ),
  // Declared an object for clients, parsed as unknown: z.record walks and copies every key (seconds for 1.5M keys)
  // before any bound could refuse it, so the bounded walk in validMetadata (run by every flow) is the one check.
  metadata: z
    .unknown()
    .meta({ type: "object" })
    .optional()
    .describe(
      `A JSON object stored with the call(s) and echoed back: at most ${METADATA_LIMITS.maxDepth} levels deep, ${METADATA_LIMITS.maxEntries.toLocaleString("en-US")} keys and array elements in all, and 64 KB serialized. Default: none.`,
    ),
};
