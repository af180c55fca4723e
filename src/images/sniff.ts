import { ToolFailure } from "../errors.js";
import { assertDimensionsAllowed, readImageDimensions } from "./dimensions.js";

export const ACCEPTED_IMAGE_TYPES = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "image/tiff": "tiff",
} as const;
export type ImageMime = keyof typeof ACCEPTED_IMAGE_TYPES;

export interface SniffedType {
  mime: ImageMime;
  ext: (typeof ACCEPTED_IMAGE_TYPES)[ImageMime];
}

const ACCEPTED_LIST = "JPEG, PNG, WebP or TIFF";

/**
 * Decides the image type by its magic bytes, never by a file name or a data-URL label; then refuses a header whose
 * canvas no face photo has (too long a side, too thin a shape), so neither the pre-check nor Didit is given it.
 */
export async function sniffImageType(bytes: Uint8Array): Promise<SniffedType> {
  // Loaded on first use so that start-up (tools/list) does not pay for it.
  const { fileTypeFromBuffer } = await import("file-type");
  const detected = await fileTypeFromBuffer(bytes);
  const mime = detected?.mime as string | undefined;
  if (mime !== undefined && mime in ACCEPTED_IMAGE_TYPES) {
    const accepted = mime as ImageMime;
    // An unreadable header is left to the decoder (the pre-check checks again through sharp) or to Didit.
    const dimensions = readImageDimensions(bytes);
    if (dimensions) assertDimensionsAllowed(dimensions);
    return { mime: accepted, ext: ACCEPTED_IMAGE_TYPES[accepted] };
  }
  const what = detected
    ? `its bytes are ${detected.mime} (.${detected.ext})`
    : "its bytes match no known image format";
  throw new ToolFailure(
    "not_an_image",
    `The input is not a ${ACCEPTED_LIST} image: ${what}.`,
    `Provide a ${ACCEPTED_LIST} photo of the face. The type is read from the file's content, so renaming a file does not change it; convert it (e.g. HEIC or GIF to JPEG) first.`,
  );
}
