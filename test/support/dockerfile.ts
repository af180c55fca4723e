import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { npmEnv } from "./packed.js";

// Replays a Dockerfile without a Docker engine (none runs here, and no container registry is reachable): each
// stage gets its own folder standing in for its root file system, COPY copies from the build context or an earlier
// stage's folder, RUN runs there with the stage's ENV, and the last stage's ENTRYPOINT + CMD can then be started.
// The base image is this machine's Node.js (the test checks the FROM line names the same major version).

export interface Instruction {
  keyword: string;
  /** The instruction's text after its keyword, continuation lines joined. */
  text: string;
  line: number;
}

/** The instructions of a Dockerfile: comments dropped, `\` continuations joined. */
export function parseDockerfile(source: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let text = (lines[i] ?? "").trim();
    const line = i + 1;
    if (text === "" || text.startsWith("#")) continue;
    while (text.endsWith("\\") && i + 1 < lines.length) {
      i++;
      const next = (lines[i] ?? "").trim();
      text = `${text.slice(0, -1).trimEnd()} ${next.startsWith("#") ? "" : next}`.trim();
    }
    const match = /^(\w+)\s+([\s\S]*)$/.exec(text);
    if (!match) throw new Error(`Dockerfile line ${line}: cannot parse "${text}"`);
    out.push({ keyword: (match[1] ?? "").toUpperCase(), text: match[2] ?? "", line });
  }
  return out;
}

/** An exec-form (JSON array) or shell-form command as argv. */
function commandArgv(text: string): string[] {
  if (text.trim().startsWith("[")) return JSON.parse(text) as string[];
  return ["/bin/sh", "-c", text];
}

/** `--flag=value` options at the start of a COPY, then its words. */
function copyParts(text: string): { options: Record<string, string>; words: string[] } {
  const options: Record<string, string> = {};
  const words = text.split(/\s+/).filter(Boolean);
  while (words[0]?.startsWith("--")) {
    const [key = "", value = ""] = (words.shift() ?? "").slice(2).split("=");
    options[key] = value;
  }
  return { options, words };
}

export interface Stage {
  name: string | undefined;
  from: string;
  /** The folder standing for this stage's `/`. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
  labels: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  expose: string[];
  healthcheck: string[] | undefined;
}

export interface ReplayOptions {
  /** The build context (a fresh clone). */
  context: string;
  /** Where the stage folders go. */
  into: string;
  /** Logs each step (to stderr, for a failing CI run). */
  log?: (line: string) => void;
  timeoutMs: number;
}

/** Inside a stage: an absolute image path under the stage's folder, a relative one under its WORKDIR. */
function inStage(stage: Stage, imagePath: string): string {
  const absolute = path.posix.isAbsolute(imagePath) ? imagePath : path.posix.join(stage.workdir, imagePath);
  return path.join(stage.root, absolute);
}

/** Runs every instruction; throws naming the line of the first that fails. Returns the stages, last one last. */
export function replayDockerfile(dockerfile: string, options: ReplayOptions): Stage[] {
  const stages: Stage[] = [];
  const log = options.log ?? (() => {});
  for (const { keyword, text, line } of parseDockerfile(readFileSync(dockerfile, "utf8"))) {
    const where = `Dockerfile line ${line} (${keyword} ${text.slice(0, 80)})`;
    if (keyword === "FROM") {
      const [from = "", as, name] = text.split(/\s+/);
      const root = path.join(options.into, `stage-${stages.length}`);
      mkdirSync(root, { recursive: true });
      stages.push({
        name: as?.toUpperCase() === "AS" ? name : undefined,
        from,
        root,
        workdir: "/",
        env: {},
        user: undefined,
        labels: {},
        entrypoint: [],
        cmd: [],
        expose: [],
        healthcheck: undefined,
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${where}: before any FROM`);
    log(`[${stage.name ?? `stage ${stages.length - 1}`}] ${keyword} ${text}`);
    switch (keyword) {
      case "WORKDIR":
        stage.workdir = path.posix.resolve(stage.workdir, text.trim());
        mkdirSync(inStage(stage, "."), { recursive: true });
        break;
      case "ENV":
        for (const [, key = "", quoted, plain] of text.matchAll(/(\w+)=(?:"([^"]*)"|(\S*))/g))
          stage.env[key] = quoted ?? plain ?? "";
        break;
      case "LABEL":
        for (const [, key = "", quoted, plain] of text.matchAll(/([\w.-]+)=(?:"([^"]*)"|(\S*))/g))
          stage.labels[key] = quoted ?? plain ?? "";
        break;
      case "USER":
        stage.user = text.trim();
        break;
      case "EXPOSE":
        stage.expose.push(...text.split(/\s+/));
        break;
      case "ENTRYPOINT":
        stage.entrypoint = commandArgv(text);
        break;
      case "CMD":
        stage.cmd = commandArgv(text);
        break;
      case "HEALTHCHECK": {
        const cmd = /\bCMD\s+([\s\S]*)$/.exec(text)?.[1];
        if (!cmd) throw new Error(`${where}: HEALTHCHECK without CMD`);
        stage.healthcheck = commandArgv(cmd);
        break;
      }
      case "COPY": {
        const { options: flags, words } = copyParts(text);
        const dest = words.pop();
        if (!dest || words.length === 0) throw new Error(`${where}: COPY needs a source and a destination`);
        const fromStage =
          flags.from === undefined ? undefined : (stages.find((s) => s.name === flags.from) ?? undefined);
        if (flags.from !== undefined && !fromStage) throw new Error(`${where}: no stage named ${flags.from}`);
        const destPath = inStage(stage, dest);
        for (const source of words) {
          const from = fromStage ? inStage(fromStage, source) : path.join(options.context, source);
          if (source.includes("*")) {
            throw new Error(`${where}: wildcards are not replayed; name each file`);
          }
          if (!existsSync(from)) {
            throw new Error(
              `${where}: COPY source ${source} does not exist in the ${fromStage ? `"${flags.from}" stage` : "build context"}`,
            );
          }
          // Docker: a source directory's contents go into the destination; a file into a destination ending in /.
          const target =
            statSync(from).isDirectory() || !dest.endsWith("/")
              ? destPath
              : path.join(destPath, path.basename(source));
          if (statSync(from).isDirectory()) mkdirSync(target, { recursive: true });
          else mkdirSync(path.dirname(target), { recursive: true });
          cpSync(from, target, { recursive: true, verbatimSymlinks: true });
        }
        break;
      }
      case "RUN": {
        const [command = "", ...args] = commandArgv(text);
        const result = spawnSync(command, args, {
          cwd: inStage(stage, "."),
          env: { ...npmEnv(), ...stage.env },
          encoding: "utf8",
          timeout: options.timeoutMs,
          maxBuffer: 64 * 1024 * 1024,
        });
        if (result.status !== 0) {
          throw new Error(
            `${where} failed (${result.status ?? result.signal}):\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-4000)}`,
          );
        }
        break;
      }
      default:
        throw new Error(`${where}: the replay does not know ${keyword}; teach test/support/dockerfile.ts`);
    }
  }
  return stages;
}

/** The numeric uid:gid of the node images' own `node` user (uid 1000), which the last stage's USER names. */
export const IMAGE_USERS: Record<string, { uid: number; gid: number }> = { node: { uid: 1000, gid: 1000 } };

/** Makes the folders above a stage readable by an unprivileged user (mkdtemp makes them 0700). */
export function openForUser(dir: string): void {
  for (let at = dir; at !== path.dirname(at); at = path.dirname(at)) {
    if (at === "/tmp" || at === path.parse(at).root) break;
    chmodSync(at, 0o755);
  }
}

/** Starts the last stage's ENTRYPOINT + CMD (the `node` of the image is this machine's). */
export function startImage(
  stage: Stage,
  argv: string[],
  env: Record<string, string>,
): ReturnType<typeof spawn> {
  const [command = "", ...args] = argv;
  const user = stage.user ? IMAGE_USERS[stage.user] : undefined;
  // As root this machine can drop to the image's user, so the replay runs as the image does; otherwise USER is
  // ignored (the server then runs as whoever runs the test).
  const asUser = user && process.getuid?.() === 0 ? user : {};
  return spawn(command === "node" ? process.execPath : command, args, {
    cwd: inStage(stage, "."),
    env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent", ...stage.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...asUser,
  });
}
