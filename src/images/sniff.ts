import { ToolFailure } from "../core/errors.js";
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

/** iPhones save photos as HEIC by default; Didit does not take it, and decoding it here was judged too costly. */
const HEIF_TYPES: ReadonlySet<string> = new Set([
  "image/heic",
  "image/heif",
  "image/heic-sequence",
  "image/heif-sequence",
]);
const HEIC_EXPORT_HINT =
  "Export the photo as JPEG and pass that: on an iPhone, share it to Files or Mail with Options > Automatic (or set Settings > Camera > Formats > Most Compatible for new photos); on a Mac, `sips -s format jpeg photo.heic --out photo.jpg` or Preview > Export > JPEG; on Windows, open it in Photos and Save as JPEG; on Linux, `heif-convert photo.heic photo.jpg` (libheif-examples).";

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
  if (mime !== undefined && HEIF_TYPES.has(mime)) {
    throw new ToolFailure(
      "not_an_image",
      "The image is HEIC/HEIF (the iPhone camera's default format), which Didit does not accept; it was not converted here.",
      HEIC_EXPORT_HINT,
    );
  }
  const what = detected
    ? `its bytes are ${detected.mime} (.${detected.ext})`
    : "its bytes match no known image format";
  throw new ToolFailure(
    "not_an_image",
    `The input is not a ${ACCEPTED_LIST} image: ${what}.`,
    `Provide a ${ACCEPTED_LIST} photo of the face. The type is read from the file's content, so renaming a file does not change it; convert it (e.g. GIF or AVIF to JPEG) first.`,
  );
}
