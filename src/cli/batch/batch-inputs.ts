import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";

/** What a directory is searched for (case-insensitive). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  ".jpg",
  ".jpeg",
  ".png",
  ".webp",
  ".tif",
  ".tiff",
]);

export const hasGlobMagic = (text: string) => /[*?]/.test(text);

/**
 * One path segment's pattern as a regular expression: `*` is any run of characters and `?` one character, never a
 * separator; a leading dot must be matched literally (as in a shell).
 */
export function segmentPattern(segment: string): RegExp {
  let source = "";
  for (const ch of segment) {
    if (ch === "*") source += "[^/\\\\]*";
    else if (ch === "?") source += "[^/\\\\]";
    else source += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${segment.startsWith(".") ? "" : "(?!\\.)"}${source}$`);
}

async function entries(dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

/**
 * Files matching a glob with `*`, `?` and `**` (any number of directories, including none). Symlinked directories
 * are not followed (no loops); results are sorted, so a run lists inputs in a stable order.
 */
export async function expandGlob(pattern: string, cwd = process.cwd()): Promise<string[]> {
  const absolute = path.resolve(cwd, pattern);
  const { root } = path.parse(absolute);
  const segments = absolute
    .slice(root.length)
    .split(/[\\/]+/)
    .filter(Boolean);
  const found = new Set<string>();
  const walk = async (dir: string, i: number): Promise<void> => {
    const segment = segments[i];
    if (segment === undefined) return;
    const last = i === segments.length - 1;
    if (segment === "**") {
      if (last) {
        // A trailing ** means every file below.
        for (const e of await entries(dir)) {
          if (e.name.startsWith(".")) continue;
          const full = path.join(dir, e.name);
          if (e.isDirectory()) await walk(full, i);
          else if (e.isFile() || e.isSymbolicLink()) found.add(full);
        }
        return;
      }
      await walk(dir, i + 1);
      for (const e of await entries(dir)) {
        if (e.isDirectory() && !e.name.startsWith(".")) await walk(path.join(dir, e.name), i);
      }
      return;
    }
    if (!hasGlobMagic(segment)) {
      const full = path.join(dir, segment);
      if (last) {
        const s = await stat(full).catch(() => undefined);
        if (s?.isFile()) found.add(full);
      } else {
        await walk(full, i + 1);
      }
      return;
    }
    const re = segmentPattern(segment);
    for (const e of await entries(dir)) {
      if (!re.test(e.name)) continue;
      const full = path.join(dir, e.name);
      if (last) {
        if (e.isFile() || e.isSymbolicLink()) found.add(full);
      } else if (e.isDirectory()) {
        await walk(full, i + 1);
      }
    }
  };
  await walk(root, 0);
  return [...found].sort();
}

/** Image files in a directory (by extension), sorted; with `recursive`, in its subdirectories too. */
export async function listImageDir(dir: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const list = (await entries(current)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of list) {
      if (e.name.startsWith(".")) continue;
      const full = path.join(current, e.name);
      if (e.isDirectory()) {
        if (recursive) await walk(full);
      } else if (IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
        out.push(full);
      }
    }
  };
  await walk(dir);
  return out;
}

/** Splits text read from stdin into paths: one per line, blank lines ignored. */
export function pathsFromText(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * The inputs a batch will check, each once, in order: files as given, directories searched, globs expanded, `-`
 * replaced by the paths on stdin. A name that matches nothing stays as given, so its row says why.
 */
export async function expandInputs(
  args: readonly string[],
  options: { recursive: boolean; readStdin: () => Promise<string>; cwd?: string },
): Promise<string[]> {
  const cwd = options.cwd ?? process.cwd();
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (p: string) => {
    const key = path.resolve(cwd, p);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(p);
  };
  let stdinUsed = false;
  for (const arg of args) {
    if (arg === "-") {
      if (stdinUsed) continue;
      stdinUsed = true;
      for (const p of pathsFromText(await options.readStdin())) add(p);
      continue;
    }
    const s = await stat(path.resolve(cwd, arg)).catch(() => undefined);
    if (s?.isDirectory()) {
      for (const p of await listImageDir(path.resolve(cwd, arg), options.recursive)) add(p);
    } else if (!s && hasGlobMagic(arg)) {
      const matches = await expandGlob(arg, cwd);
      if (matches.length === 0) add(arg);
      for (const p of matches) add(p);
    } else {
      add(arg);
    }
  }
  return out;
}
