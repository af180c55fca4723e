import { z } from "zod";
import { MAX_IMAGE_BYTES } from "../config.js";

/** Base64 of 5 MB plus room for a data-URL prefix and MIME line breaks; longer text cannot be a valid image. */
export const MAX_BASE64_CHARS = Math.ceil(MAX_IMAGE_BYTES / 3) * 4 + 256 * 1024;

type ImageFields<P extends string> = {
  [K in `${P}image_path` | `${P}image_base64`]: z.ZodOptional<z.ZodString>;
};

/**
 * The one definition of an image argument pair: `<prefix>image_path` | `<prefix>image_base64`, with the same rules
 * for every tool (loadImage enforces exactly one). `what` names the photo in the descriptions.
 */
export function imageInputFieldsFor<P extends "" | "user_" | "ref_">(
  prefix: P,
  what = "face photo",
): ImageFields<P> {
  const pathField = `${prefix}image_path`;
  const base64Field = `${prefix}image_base64`;
  return {
    [pathField]: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe(
        `Path of the ${what}, a JPEG, PNG, WebP or TIFF file (at most 5 MB) inside one of the server's allowed directories. Relative paths resolve against the first allowed directory; ~ expands. Give exactly one of ${pathField} or ${base64Field}.`,
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
        `The ${what} as raw base64 or a data:image/...;base64, URL; the decoded image must be JPEG, PNG, WebP or TIFF and at most 5 MB (5,242,880 bytes). Give exactly one of ${pathField} or ${base64Field}.`,
      ),
  } as ImageFields<P>;
}

/** The image fields every single-image tool takes. */
export const imageInputFields = imageInputFieldsFor("");
