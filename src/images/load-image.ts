import { constants } from "node:fs";
import { type FileHandle, lstat, open, readlink, realpath } from "node:fs/promises";
import { formatBytes } from "../core/byte-size.js";
import { ToolFailure } from "../core/errors.js";
import { decodeBase64Image } from "./base64.js";
import { MAX_IMAGE_BYTES } from "./limits.js";
import { describeAllowedDirs, isInside, outsideRefusal, resolveAllowedPath } from "./path-policy.js";
import { type ImageMime, sniffImageType } from "./sniff.js";
import { fetchImageUrl, type UrlFetchOptions } from "./url-fetch.js";
import { createUrlPolicy, type UrlPolicy, urlOrigin } from "./url-policy.js";

export interface ImageInput {
  image_path?: string | undefined;
  image_base64?: string | undefined;
  image_url?: string | undefined;
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
  /** Read regular files with more than one hard link (any of which may be outside); off unless configured. */
  allowHardlinks?: boolean | undefined;
  /** Which image_url hosts may be fetched; default: https to public addresses only. */
  urlPolicy?: UrlPolicy | undefined;
  /** The call's cancellation, for image_url. */
  signal?: AbortSignal | undefined;
  /** Test seams for image_url: the resolver and the deadline. */
  urlFetch?: Pick<UrlFetchOptions, "resolve" | "timeoutMs"> | undefined;
}

/** Told of each photo a flow has loaded and validated (the verdict view's thumbnails); "image" for a single photo. */
export type ImageObserver = (role: "image" | "user" | "ref", image: LoadedImage) => void;

/** Where a flow's images may come from: the same rules for every image of every flow (from config or a test). */
export interface ImageSources {
  /** The directories image_path may read from (the configured ones, or the client's roots). */
  allowedDirs: () => Promise<readonly string[]>;
  /** Read image files with more than one hard link (--allow-hardlinks). */
  allowHardlinks?: boolean | undefined;
  /** Which image_url hosts may be fetched (--allow-url-host); default: https to public addresses. */
  urlPolicy?: UrlPolicy | undefined;
  /** Test seams for image_url: resolver and deadline. */
  urlFetch?: LoadImageOptions["urlFetch"];
}

/** The options one call loads its images with. */
export async function imageOptions(
  sources: ImageSources,
  signal: AbortSignal | undefined,
): Promise<LoadImageOptions> {
  return {
    allowedDirs: await sources.allowedDirs(),
    allowHardlinks: sources.allowHardlinks,
    urlPolicy: sources.urlPolicy,
    urlFetch: sources.urlFetch,
    signal,
  };
}

/** A URL typed where a path belongs would otherwise be resolved as a relative path and reported missing. */
const LOOKS_LIKE_URL = /^https?:\/\//i;

export async function loadImage(input: ImageInput, options: LoadImageOptions): Promise<LoadedImage> {
  const maxBytes = options.maxBytes ?? MAX_IMAGE_BYTES;
  const given = [input.image_path, input.image_base64, input.image_url].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new ToolFailure(
      "invalid_input",
      given === 0
        ? "No image was given."
        : "More than one of image_path, image_base64 and image_url was given.",
      "Pass exactly one of image_path (a file inside an allowed directory), image_base64 (raw base64 or a data:image/...;base64, URL) or image_url (an https:// link to the image).",
    );
  }
  let bytes: Uint8Array;
  let label: string;
  if (input.image_path !== undefined) {
    if (LOOKS_LIKE_URL.test(input.image_path)) {
      throw new ToolFailure(
        "invalid_input",
        "image_path takes a file path; use image_url for URLs.",
        "Pass the link as image_url instead of image_path.",
      );
    }
    const real = await resolveAllowedPath(input.image_path, options.allowedDirs);
    bytes = await readBoundedFile(real, maxBytes, options).catch((error: unknown) => {
      if (!(error instanceof ToolFailure)) throw error;
      throw new ToolFailure(
        error.code,
        error.message,
        `${error.hint} Allowed directories: ${describeAllowedDirs(options.allowedDirs)}.`,
      );
    });
    label = real.split(/[\\/]/).pop() ?? "image";
  } else if (input.image_url !== undefined) {
    const fetched = await fetchImageUrl(input.image_url, {
      ...options.urlFetch,
      policy: options.urlPolicy ?? createUrlPolicy([]),
      maxBytes,
      signal: options.signal,
    });
    bytes = fetched.bytes;
    label = `the image from ${urlOrigin(fetched.url)}`;
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

// O_NONBLOCK keeps open() from blocking forever on a FIFO with no writer; fstat then refuses it. O_NOFOLLOW: the
// path was resolved already, so a symlink in its last part now means it was swapped after the check.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

export interface ReadFileOptions {
  allowedDirs: readonly string[];
  allowHardlinks?: boolean | undefined;
}

/**
 * Opens the judged real path once and works on that handle only. Before anything about the file is looked at
 * (type, size, bytes), the handle is confirmed to be the file that was judged: same device and inode as the path
 * now, the path still its own real path, and on Linux the handle's own path inside an allowed dir; any mismatch
 * is refused exactly like a file outside. Then a file with other hard links is refused unless allowed, and the
 * read stops at maxBytes + 1 whatever the file claims, so a file that grows or a device that never ends cannot
 * flood memory.
 */
export async function readBoundedFile(
  realPath: string,
  maxBytes: number,
  options: ReadFileOptions,
): Promise<Uint8Array> {
  const { allowedDirs } = options;
  const handle = await open(realPath, OPEN_FLAGS).catch(async (error: NodeJS.ErrnoException) => {
    // ELOOP (EMLINK on BSDs): the last part is a symlink now. Any other failure is reported only if the path is
    // still its own real path, so an error about a swapped-in outside file never comes back.
    if (error.code === "ELOOP" || error.code === "EMLINK" || !(await stillRealPath(realPath))) {
      throw outsideRefusal(allowedDirs);
    }
    throw new ToolFailure(
      error.code === "ENOENT" ? "file_not_found" : "invalid_input",
      `Cannot open the image file (${error.code ?? "error"}).`,
      "Check that the file exists and is readable by the server's user.",
    );
  });
  try {
    const info = await handle.stat({ bigint: true });
    if (!(await isJudgedFile(handle, info, realPath, allowedDirs))) throw outsideRefusal(allowedDirs);
    if (!info.isFile()) {
      throw new ToolFailure(
        "not_an_image",
        "The path is not a regular file (it is a directory, device, FIFO or socket).",
        "Point image_path at a JPEG, PNG, WebP or TIFF file.",
      );
    }
    if (info.nlink > 1n && options.allowHardlinks !== true) {
      throw new ToolFailure(
        "path_not_allowed",
        "Refused to read the image path: the file has more than one hard link, so it may be the same file as one outside the allowed directories.",
        "Copy the file (a copy has a single link) into an allowed directory and pass the copy, or start the server with --allow-hardlinks (DIDIT_ALLOW_HARDLINKS=true) if you trust every hard link under the allowed directories.",
      );
    }
    const size = Number(info.size);
    if (size === 0) {
      throw new ToolFailure(
        "not_an_image",
        "The image file is empty (0 bytes).",
        "Provide the complete photo file.",
      );
    }
    if (size > maxBytes) throw tooLarge(size, maxBytes);
    const buffer = Buffer.allocUnsafe(Math.min(size, maxBytes) + 1);
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

/** Whether the opened handle is the file at the judged real path, checked after the open, not before. */
async function isJudgedFile(
  handle: FileHandle,
  opened: { dev: bigint; ino: bigint },
  realPath: string,
  allowedDirs: readonly string[],
): Promise<boolean> {
  // Linux names the file behind the descriptor; a directory swapped for a link to outside shows up here.
  if (process.platform === "linux") {
    const own = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (own !== undefined && !allowedDirs.some((dir) => isInside(dir, own))) return false;
  }
  if (!(await stillRealPath(realPath))) return false;
  const now = await lstat(realPath, { bigint: true }).catch(() => undefined);
  return now !== undefined && now.dev === opened.dev && now.ino === opened.ino;
}

/** True when the path still resolves to itself: no part of it has become a symlink. */
async function stillRealPath(realPath: string): Promise<boolean> {
  return (await realpath(realPath).catch(() => undefined)) === realPath;
}

function tooLarge(size: number, maxBytes: number): ToolFailure {
  return new ToolFailure(
    "too_large",
    `The image file is ${size > maxBytes + 1 ? formatBytes(size) : `over ${formatBytes(maxBytes)}`}, over Didit's limit of ${formatBytes(maxBytes)}.`,
    "Resize or recompress the photo (Didit recompresses to about 0.5 MB anyway, so 1-2 MP is plenty) and try again.",
  );
}
