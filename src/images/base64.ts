import { MAX_IMAGE_BYTES } from "../config.js";
import { ToolFailure } from "../errors.js";

const DATA_URL = /^data:([^,;]*)((?:;[^,;]*)*),/i;
const WHITESPACE = /\s+/g;
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL_BODY = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Decodes raw base64 or a `data:image/...;base64,` URL into bytes. The size is checked from the text length
 * before decoding, so an oversized payload is refused without allocating it.
 */
export function decodeBase64Image(input: string, maxBytes = MAX_IMAGE_BYTES): Buffer {
  let body = input;
  const dataUrl = DATA_URL.exec(input.trimStart());
  if (dataUrl) {
    const [prefix, mediaType = "", params = ""] = dataUrl;
    if (!/;base64$/i.test(params)) {
      throw invalid("The data URL is not base64-encoded (it lacks `;base64`).");
    }
    if (mediaType !== "" && !/^image\//i.test(mediaType)) {
      throw new ToolFailure(
        "not_an_image",
        `The data URL declares ${mediaType}, not an image.`,
        "Send a JPEG, PNG, WebP or TIFF photo as `data:image/jpeg;base64,...` or as raw base64.",
      );
    }
    body = input.trimStart().slice(prefix.length);
  }
  body = body.replace(WHITESPACE, "");
  if (body.length === 0) throw invalid("image_base64 is empty.");
  const urlSafe = !BASE64_BODY.test(body);
  if (urlSafe && !BASE64URL_BODY.test(body)) {
    throw invalid("image_base64 contains characters outside the base64 alphabet.");
  }
  const unpadded = body.replace(/=+$/, "");
  const padding = body.length - unpadded.length;
  if (unpadded.length % 4 === 1 || (padding > 0 && body.length % 4 !== 0)) {
    throw invalid("image_base64 has a length or padding that no valid base64 text has (it looks truncated).");
  }
  const decodedBytes = Math.floor((unpadded.length * 3) / 4);
  if (decodedBytes > maxBytes) {
    throw new ToolFailure(
      "too_large",
      `The decoded image is ${formatBytes(decodedBytes)}, over Didit's limit of ${formatBytes(maxBytes)}.`,
      "Resize or recompress the photo (Didit recompresses to about 0.5 MB anyway, so 1-2 MP is plenty) and try again.",
    );
  }
  return Buffer.from(unpadded, urlSafe ? "base64url" : "base64");
}

function invalid(message: string): ToolFailure {
  return new ToolFailure(
    "invalid_input",
    message,
    "Pass the image as standard base64 (or a `data:image/jpeg;base64,...` URL) of the complete file, or use image_path instead.",
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(2)} MB`;
}
