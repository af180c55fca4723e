import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { MAX_IMAGE_BYTES } from "../config.js";
import { ToolFailure } from "../errors.js";
import { decodeBase64Image, formatBytes } from "./base64.js";
import { describeAllowedDirs, resolveAllowedPath } from "./path-policy.js";
import { type ImageMime, sniffImageType } from "./sniff.js";

export interface ImageInput {
  image_path?: string | undefined;
  image_base64?: string | undefined;
}

/** Validated image bytes, ready to upload: the type comes from the magic bytes. */
export interface LoadedImage {
  bytes: Uint8Array;
  mime: ImageMime;
  /** The name sent to Didit: generic, so no local file name leaves the machine. */
  filename: string;
  /** The local file name or "base64 input", for messages shown to the user only. */
  label: string;
}

export interface LoadImageOptions {
  allowedDirs: readonly string[];
  maxBytes?: number;
}

export async function loadImage(input: ImageInput, options: LoadImageOptions): Promise<LoadedImage> {
  const maxBytes = options.maxBytes ?? MAX_IMAGE_BYTES;
  const hasPath = input.image_path !== undefined;
  const hasBase64 = input.image_base64 !== undefined;
  if (hasPath === hasBase64) {
    throw new ToolFailure(
      "invalid_input",
      hasPath ? "Both image_path and image_base64 were given." : "No image was given.",
      "Pass exactly one of image_path (a file inside an allowed directory) or image_base64 (raw base64 or a data:image/...;base64, URL).",
    );
  }
  let bytes: Uint8Array;
  let label: string;
  if (input.image_path !== undefined) {
    const real = await resolveAllowedPath(input.image_path, options.allowedDirs);
    bytes = await readBoundedFile(real, maxBytes).catch((error: unknown) => {
      if (!(error instanceof ToolFailure)) throw error;
      throw new ToolFailure(
        error.code,
        error.message,
        `${error.hint} Allowed directories: ${describeAllowedDirs(options.allowedDirs)}.`,
      );
    });
    label = real.split(/[\\/]/).pop() ?? "image";
  } else {
    bytes = decodeBase64Image(input.image_base64 ?? "", maxBytes);
    label = "base64 input";
  }
  if (bytes.byteLength === 0) {
    throw new ToolFailure(
      "not_an_image",
      "The image is empty (0 bytes).",
      "Provide the complete photo file.",
    );
  }
  const { mime, ext } = await sniffImageType(bytes);
  return { bytes, mime, filename: `image.${ext}`, label };
}

// O_NONBLOCK keeps open() from blocking forever on a FIFO with no writer; fstat then refuses it.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Opens the file once and works on that handle: fstat, size check, then a read that stops at maxBytes + 1 whatever
 * the file claims, so a file that grows or a device that never ends cannot flood memory.
 */
export async function readBoundedFile(realPath: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await open(realPath, OPEN_FLAGS).catch((error: NodeJS.ErrnoException) => {
    throw new ToolFailure(
      error.code === "ENOENT" ? "file_not_found" : "invalid_input",
      `Cannot open the image file (${error.code ?? "error"}).`,
      "Check that the file exists and is readable by the server's user.",
    );
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new ToolFailure(
        "not_an_image",
        "The path is not a regular file (it is a directory, device, FIFO or socket).",
        "Point image_path at a JPEG, PNG, WebP or TIFF file.",
      );
    }
    if (info.size === 0) {
      throw new ToolFailure(
        "not_an_image",
        "The image file is empty (0 bytes).",
        "Provide the complete photo file.",
      );
    }
    if (info.size > maxBytes) throw tooLarge(info.size, maxBytes);
    const buffer = Buffer.allocUnsafe(Math.min(info.size, maxBytes) + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > maxBytes) throw tooLarge(filled, maxBytes);
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

function tooLarge(size: number, maxBytes: number): ToolFailure {
  return new ToolFailure(
    "too_large",
    `The image file is ${size > maxBytes + 1 ? formatBytes(size) : `over ${formatBytes(maxBytes)}`}, over Didit's limit of ${formatBytes(maxBytes)}.`,
    "Resize or recompress the photo (Didit recompresses to about 0.5 MB anyway, so 1-2 MP is plenty) and try again.",
  );
}
