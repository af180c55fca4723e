import { lstat, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { ToolFailure } from "../core/errors.js";
import { expandHome } from "./home.js";

const WINDOWS_STYLE = /^[a-zA-Z]:[\\/]|^\\\\|\\/;

/** True when `candidate` is `dir` itself or below it, judged by path segments, never by string prefix. */
export function isInside(dir: string, candidate: string): boolean {
  const rel = path.relative(dir, candidate);
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel));
}

export function describeAllowedDirs(allowedDirs: readonly string[]): string {
  return allowedDirs.length === 0 ? "none configured" : allowedDirs.join(", ");
}

/** How many symlinks one path may pass through before it counts as a loop (Linux's own limit is 40). */
const MAX_SYMLINK_HOPS = 40;

/**
 * Turns a requested image path into the real path of a file inside an allowed directory, or fails saying which
 * rule it broke. Symlinks are followed to their final target, and that target is what must be inside. The path
 * is used exactly as given: surrounding whitespace or a trailing slash is refused, never trimmed away.
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
  if (requested !== requested.trim()) {
    throw refused(
      "it starts or ends with whitespace (spaces, tabs or line breaks), which is never trimmed",
      allowedDirs,
      "invalid_input",
    );
  }
  if (requested.length > 1 && /[\\/]$/.test(requested)) {
    throw refused("it ends with a slash, so it cannot name a file", allowedDirs, "invalid_input");
  }
  const [firstDir] = allowedDirs as [string, ...string[]];
  const absolute = path.resolve(firstDir, expandHome(requested));

  let real: string;
  try {
    real = await realpath(absolute);
  } catch (error) {
    throw await unresolvableFailure(absolute, (error as NodeJS.ErrnoException).code, allowedDirs);
  }
  if (!allowedDirs.some((dir) => isInside(dir, real))) throw outsideRefusal(allowedDirs);
  return real;
}

/**
 * The one answer for anything outside, whether it exists, is a file, a link, a loop or a directory, and for a
 * file that stopped being the judged one; any other wording would tell an outside file apart from a missing one.
 */
export function outsideRefusal(allowedDirs: readonly string[]): ToolFailure {
  return refused("it is outside the allowed directories (a symlink counts by its final target)", allowedDirs);
}

/**
 * Explains a path that does not resolve without revealing anything outside the allowed dirs: the answer may
 * depend only on things inside. So the deepest ancestor that resolves must be inside, the rest is walked link by
 * link under it, and a link is followed by judging its target the same way; anything that leads outside (a
 * missing, looping, dangling or non-directory thing there) gets exactly the outside refusal.
 */
async function unresolvableFailure(
  absolute: string,
  code: string | undefined,
  allowedDirs: readonly string[],
): Promise<ToolFailure> {
  const walk = await walkUnresolved(absolute, allowedDirs, 0);
  switch (walk.kind) {
    case "outside":
      return outsideRefusal(allowedDirs);
    case "loop":
      return refused("it is a symlink loop", allowedDirs, "invalid_input");
    case "error":
      return refused(`it cannot be resolved (${walk.code ?? code ?? "unknown error"})`, allowedDirs);
    case "missing":
      if (walk.viaLink) return refused("it is a symlink whose target does not exist", allowedDirs);
      return new ToolFailure(
        "file_not_found",
        `No file at ${absolute}.`,
        `Check the path (relative paths are resolved against ${allowedDirs[0] ?? ""}). Allowed directories: ${describeAllowedDirs(allowedDirs)}.`,
      );
  }
}

type Walk =
  | { kind: "outside" }
  | { kind: "loop" }
  | { kind: "error"; code: string | undefined }
  /** A part is missing (or is not a directory) at a place inside; viaLink when a symlink led there. */
  | { kind: "missing"; viaLink: boolean };

async function walkUnresolved(absolute: string, allowedDirs: readonly string[], hops: number): Promise<Walk> {
  let ancestor = path.dirname(absolute);
  let current: string | undefined;
  while (current === undefined) {
    current = await realpath(ancestor).catch(() => undefined);
    const parent = path.dirname(ancestor);
    if (current === undefined && parent === ancestor) break;
    if (current === undefined) ancestor = parent;
  }
  if (current === undefined || !allowedDirs.some((dir) => isInside(dir, current as string))) {
    return { kind: "outside" };
  }
  // `absolute` is normalised (no "." or ".."), so each part is a plain name and stays under `current`.
  const parts = path.relative(ancestor, absolute).split(path.sep).filter(Boolean);
  for (const [index, part] of parts.entries()) {
    const next = path.join(current, part);
    let isLink: boolean;
    try {
      isLink = (await lstat(next)).isSymbolicLink();
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno === "ENOENT" || errno === "ENOTDIR") return { kind: "missing", viaLink: hops > 0 };
      return { kind: "error", code: errno };
    }
    if (!isLink) {
      current = next;
      continue;
    }
    if (hops + 1 > MAX_SYMLINK_HOPS) return { kind: "loop" };
    const target = await readlink(next).catch(() => undefined);
    if (target === undefined) return { kind: "error", code: undefined };
    return walkUnresolved(path.resolve(current, target, ...parts.slice(index + 1)), allowedDirs, hops + 1);
  }
  // Every part exists now, yet realpath failed a moment ago (the tree changed): say nothing more.
  return { kind: "error", code: undefined };
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
