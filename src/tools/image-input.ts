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

/** The image fields every image tool takes, with the same rules (loadImage enforces exactly one). */
export const imageInputFields = {
  image_path: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .describe(
      "Path of a JPEG, PNG, WebP or TIFF face photo (at most 5 MB; HEIC is refused: export it as JPEG first) inside one of the server's allowed directories. Relative paths resolve against the first allowed directory; ~ expands. Give exactly one of image_path, image_base64 or image_url.",
    ),
  image_base64: z
    .string()
    .min(1)
    .max(
      MAX_BASE64_CHARS,
      `image_base64 is longer than ${MAX_BASE64_CHARS} characters, so the image exceeds 5 MB`,
    )
    .optional()
    .describe(
      "The face photo as raw base64 or a data:image/...;base64, URL; the decoded image must be JPEG, PNG, WebP or TIFF and at most 5 MB (5,242,880 bytes). Give exactly one of image_path, image_base64 or image_url.",
    ),
  image_url: imageUrlField
    .optional()
    .describe(
      "An https:// URL of the face photo (e.g. a presigned S3/GCS link or a CDN asset) that the server downloads: JPEG, PNG, WebP or TIFF, at most 5 MB, within 10 s and 3 redirects. Private, loopback and link-local addresses are refused unless the operator listed the host. Give exactly one of image_path, image_base64 or image_url.",
    ),
};
