import { z } from "zod";
import { MAX_IMAGE_BYTES } from "../config.js";

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
