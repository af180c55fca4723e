import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { expandHome } from "../config.js";
import { ToolFailure } from "../errors.js";

const WINDOWS_STYLE = /^[a-zA-Z]:[\\/]|^\\\\|\\/;

/** True when `candidate` is `dir` itself or below it, judged by path segments, never by string prefix. */
export function isInside(dir: string, candidate: string): boolean {
  const rel = path.relative(dir, candidate);
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel));
}

export function describeAllowedDirs(allowedDirs: readonly string[]): string {
  return allowedDirs.length === 0 ? "none configured" : allowedDirs.join(", ");
}

/**
 * Turns a requested image path into the real path of a file inside an allowed directory, or fails saying which
 * rule it broke. Symlinks are followed to their final target, and that target is what must be inside.
 */
export async function resolveAllowedPath(requested: string, allowedDirs: readonly string[]): Promise<string> {
  if (allowedDirs.length === 0) {
    throw new ToolFailure(
      "path_not_allowed",
      "Reading images from paths is disabled: no allowed directories are configured (and the client shared no MCP roots).",
      "Start the server with `--allow-dir /path/to/images` (repeatable) or set DIDIT_ALLOWED_DIRS (directories separated by the OS path delimiter), or pass the image as image_base64 instead.",
    );
  }
  if (requested.includes("\0")) {
    throw refused("the path contains a NUL byte", allowedDirs, "invalid_input");
  }
  if (path.sep === "/" && WINDOWS_STYLE.test(requested)) {
    throw refused(
      "it is a Windows-style path (drive letter or backslashes) on a POSIX system",
      allowedDirs,
      "invalid_input",
    );
  }
  const [firstDir] = allowedDirs as [string, ...string[]];
  const absolute = path.resolve(firstDir, expandHome(requested.trim()));

  let real: string;
  try {
    real = await realpath(absolute);
  } catch (error) {
    throw await unresolvableFailure(absolute, (error as NodeJS.ErrnoException).code, allowedDirs);
  }
  if (!allowedDirs.some((dir) => isInside(dir, real))) {
    throw refused(outsideReason(absolute, real), allowedDirs);
  }
  return real;
}

/**
 * Explains a path that does not resolve without revealing anything outside the allowed dirs: "missing" is only
 * said when the deepest existing ancestor, symlinks followed, is inside and the entry itself does not exist.
 */
async function unresolvableFailure(
  absolute: string,
  code: string | undefined,
  allowedDirs: readonly string[],
): Promise<ToolFailure> {
  let ancestor = path.dirname(absolute);
  let realAncestor: string | undefined;
  while (realAncestor === undefined) {
    realAncestor = await realpath(ancestor).catch(() => undefined);
    const parent = path.dirname(ancestor);
    if (realAncestor === undefined && parent === ancestor) break;
    if (realAncestor === undefined) ancestor = parent;
  }
  const rebuilt =
    realAncestor === undefined ? absolute : path.join(realAncestor, path.relative(ancestor, absolute));
  if (!allowedDirs.some((dir) => isInside(dir, rebuilt))) {
    return refused(outsideReason(absolute, rebuilt), allowedDirs);
  }
  if (code === "ELOOP") return refused("it is a symlink loop", allowedDirs, "invalid_input");
  const entryExists = await lstat(absolute).then(
    () => true,
    () => false,
  );
  if (entryExists) {
    return refused("it is a symlink whose target does not exist or cannot be checked", allowedDirs);
  }
  if (code === "ENOENT" || code === "ENOTDIR") {
    const [firstDir = ""] = allowedDirs;
    return new ToolFailure(
      "file_not_found",
      `No file at ${absolute}.`,
      `Check the path (relative paths are resolved against ${firstDir}). Allowed directories: ${describeAllowedDirs(allowedDirs)}.`,
    );
  }
  return refused(`it cannot be resolved (${code ?? "unknown error"})`, allowedDirs);
}

function outsideReason(requested: string, resolved: string): string {
  return requested === resolved
    ? "it is outside the allowed directories"
    : "it is a symlink (or under one) whose target is outside the allowed directories";
}

function refused(
  why: string,
  allowedDirs: readonly string[],
  code: "path_not_allowed" | "invalid_input" = "path_not_allowed",
): ToolFailure {
  return new ToolFailure(
    code,
    `Refused to read the image path: ${why}.`,
    `Use a file inside the allowed directories (${describeAllowedDirs(allowedDirs)}), or pass the image as image_base64.`,
  );
}
