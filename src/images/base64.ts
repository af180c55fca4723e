import { formatBytes } from "../core/byte-size.js";
import { ToolFailure } from "../core/errors.js";
import { MAX_IMAGE_BYTES } from "./limits.js";

const DATA_URL = /^data:([^,;]*)((?:;[^,;]*)*),/i;
const WHITESPACE = /\s+/g;
const EQUALS = 0x3d;

/**
 * Decodes raw base64 or a `data:image/...;base64,` URL into bytes. The size is checked from the text length
 * before decoding, so an oversized payload is refused without allocating it. Standard and URL-safe alphabets are
 * accepted; anything else is refused. Written for multi-megabyte input: no regex scans the whole text.
 */
export function decodeBase64Image(input: string, maxBytes = MAX_IMAGE_BYTES): Buffer {
  let body = input;
  const start = input.slice(0, 512).trimStart();
  const dataUrl = DATA_URL.exec(start);
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
    const leadingWhitespace = Math.min(input.length, 512) - start.length;
    body = input.slice(leadingWhitespace + prefix.length);
  }
  if (hasWhitespace(body)) body = body.replace(WHITESPACE, "");
  if (body.length === 0) throw invalid("image_base64 is empty.");
  let padding = 0;
  while (padding < body.length && body.charCodeAt(body.length - 1 - padding) === EQUALS) padding++;
  const unpaddedLength = body.length - padding;
  if (padding > 2 || unpaddedLength % 4 === 1 || (padding > 0 && body.length % 4 !== 0)) {
    throw invalid("image_base64 has a length or padding that no valid base64 text has (it looks truncated).");
  }
  const decodedBytes = Math.floor((unpaddedLength * 3) / 4);
  if (decodedBytes > maxBytes) {
    throw new ToolFailure(
      "too_large",
      `The decoded image is ${formatBytes(decodedBytes)}, over Didit's limit of ${formatBytes(maxBytes)}.`,
      "Resize or recompress the photo (Didit recompresses to about 0.5 MB anyway, so 1-2 MP is plenty) and try again.",
    );
  }
  const standard = body.includes("+") || body.includes("/");
  if (standard && (body.includes("-") || body.includes("_"))) {
    throw invalid("image_base64 mixes the standard (+/) and URL-safe (-_) base64 alphabets.");
  }
  const bytes = Buffer.from(body, "base64");
  // Node's decoder skips characters outside the alphabet and stops at an inner "=", so either shows as a short result.
  if (bytes.length !== decodedBytes) {
    throw invalid("image_base64 contains characters outside the base64 alphabet.");
  }
  return bytes;
}

/** indexOf per character is a fast native scan; a /\s/ regex over megabytes is ten times slower. */
function hasWhitespace(text: string): boolean {
  return (
    text.includes("\n") ||
    text.includes("\r") ||
    text.includes(" ") ||
    text.includes("\t") ||
    text.includes("\f") ||
    text.includes("\v") ||
    /\s/.test(text.slice(0, 1024))
  );
}

function invalid(message: string): ToolFailure {
  return new ToolFailure(
    "invalid_input",
    message,
    "Pass the image as standard base64 (or a `data:image/jpeg;base64,...` URL) of the complete file, or use image_path instead.",
  );
}
