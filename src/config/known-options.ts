import { type ParseArgsConfig, parseArgs } from "node:util";

// The one option parser of every command and of the server's own flags: Node's, strict, with a spelling hint.

/** Edits (insert, delete, substitute, swap two neighbours) that turn a into b: the optimal-string-alignment distance. */
export function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  const d = Array.from({ length: (a.length + 1) * width }, (_, k) =>
    k < width ? k : k % width === 0 ? k / width : 0,
  );
  const at = (i: number, j: number) => d[i * width + j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * width + j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The option a mistyped `--word` most likely meant: the only one it begins, else the only one within two edits (and
 * fewer edits than it has letters); undefined when none is that close or two are equally close.
 */
export function nearestOption(typed: string, names: readonly string[]): string | undefined {
  const word = typed.replace(/^--/, "");
  const extending = names.filter((name) => name.startsWith(word));
  if (word.length >= 2 && extending.length === 1) return `--${extending[0]}`;
  let closest: string[] = [];
  let distance = 3;
  for (const name of names) {
    const d = editDistance(word, name);
    if (d < distance) [closest, distance] = [[name], d];
    else if (d === distance) closest.push(name);
  }
  return closest.length === 1 && distance < word.length ? `--${closest[0]}` : undefined;
}

/**
 * parseArgs, whose unknown long option close to a known one is reported as "Unknown option '--treshold'; did you mean
 * --threshold?". Every other parse error is Node's, unchanged; callers turn either into their usage error.
 */
export function parseKnownOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const unknown =
      (error as { code?: unknown }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
        ? /^Unknown option '(--[^'=]+)'/.exec(String((error as Error).message))?.[1]
        : undefined;
    const meant =
      unknown === undefined ? undefined : nearestOption(unknown, Object.keys(config.options ?? {}));
    if (meant) throw new Error(`Unknown option '${unknown}'; did you mean ${meant}?`);
    throw error;
  }
}
