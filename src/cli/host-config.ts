import { statSync } from "node:fs";
import path from "node:path";
import { installKind } from "../core/install-kind.js";
import { expandHome } from "../images/home.js";
import { parse, usageError } from "./command-options.js";
import type { CliIO } from "./io.js";

// `didit-passive-liveness-mcp config <host>`: the host's configuration snippet for THIS copy (the Node.js running it
// and this copy's dist/index.js, absolute), so a person pastes something that starts today, published or not.
// Loaded lazily by cli/main.ts: the server's start never reads this module.

export const HOSTS = ["claude-desktop", "claude-code", "cursor", "vscode", "openclaw"] as const;
export type Host = (typeof HOSTS)[number];

/** Never a real key: the snippet is pasted into files and chats, so the key stays a placeholder. */
export const KEY_PLACEHOLDER = "your-didit-api-key";
const SERVER_NAME = "didit-liveness";
/** VS Code's own variable for a prompted input, "${input:id}" (built, so it is not taken for a template literal). */
const VSCODE_KEY_INPUT = ["$", "{input:didit-api-key}"].join("");

/** Where each host keeps the snippet; printed on stderr so stdout stays exactly what to paste. */
const WHERE: Record<Host, string> = {
  "claude-desktop":
    "Merge into claude_desktop_config.json (Settings > Developer > Edit Config), put your key in env, restart Claude Desktop.",
  "claude-code":
    "Run this in a shell (add --scope user before the name for every project); check with `claude mcp list`.",
  cursor:
    "Merge into ~/.cursor/mcp.json (every project) or .cursor/mcp.json in a project, put your key in env.",
  vscode: "Merge into .vscode/mcp.json in the workspace; VS Code asks for the key once and stores it.",
  openclaw: "Run this in a shell, then `openclaw mcp doctor didit-liveness --probe`.",
};

/** The command and arguments that start this copy of the server over stdio. */
export function serverCommand(allowDirs: readonly string[], sandbox: boolean): string[] {
  const install = installKind();
  // From npx's cache the path is not stable (npx may clear it), so the npx form is the one that lasts.
  const start =
    install.kind === "npx"
      ? ["npx", "-y", "didit-passive-liveness-mcp"]
      : [process.execPath, path.join(install.root, "dist", "index.js")];
  return [...start, ...allowDirs.flatMap((dir) => ["--allow-dir", dir]), ...(sandbox ? ["--sandbox"] : [])];
}

/** One word for a POSIX shell: single-quoted unless it is plainly safe. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function hostSnippet(host: Host, argv: readonly string[], sandbox: boolean): string {
  const [command = "", ...args] = argv;
  const env = sandbox ? {} : { DIDIT_API_KEY: KEY_PLACEHOLDER };
  const entry = { command, args, env };
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  switch (host) {
    case "claude-desktop":
    case "cursor":
      return json({ mcpServers: { [SERVER_NAME]: entry } });
    case "vscode":
      return json({
        ...(sandbox
          ? {}
          : {
              inputs: [
                { type: "promptString", id: "didit-api-key", description: "Didit API key", password: true },
              ],
            }),
        servers: {
          [SERVER_NAME]: {
            type: "stdio",
            command,
            args,
            env: sandbox ? {} : { DIDIT_API_KEY: VSCODE_KEY_INPUT },
          },
        },
      });
    case "claude-code":
      return `${[
        "claude",
        "mcp",
        "add",
        SERVER_NAME,
        ...(sandbox ? [] : ["-e", `DIDIT_API_KEY=${KEY_PLACEHOLDER}`]),
        "--",
        ...argv,
      ]
        .map(shellWord)
        .join(" ")}\n`;
    case "openclaw":
      return `openclaw mcp set ${SERVER_NAME} ${shellWord(JSON.stringify(entry))}\n`;
  }
}

export async function runHostConfig(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, {
    "allow-dir": { type: "string", multiple: true },
    sandbox: { type: "boolean" },
  });
  const host = positionals[0];
  if (positionals.length !== 1 || !(HOSTS as readonly string[]).includes(host ?? "")) {
    throw usageError(
      `config needs one host: ${HOSTS.join(", ")}${host ? ` (not "${host}")` : ""}.`,
      "For example: didit-passive-liveness-mcp config claude-desktop --allow-dir ~/selfies",
    );
  }
  const dirs = (values["allow-dir"] as string[] | undefined) ?? [];
  const allowDirs = dirs.map((dir) => path.resolve(expandHome(dir)));
  for (const [i, dir] of allowDirs.entries()) {
    // The server refuses to start with a folder that is not there; say so now rather than in the host's log.
    if (!isDirectory(dir)) throw usageError(`--allow-dir ${dirs[i]}: ${dir} is not a folder.`);
  }
  const sandbox = values.sandbox === true;
  io.out(hostSnippet(host as Host, serverCommand(allowDirs, sandbox), sandbox));
  io.err(`${WHERE[host as Host]}${sandbox ? "" : ` Replace ${KEY_PLACEHOLDER} with your Didit API key.`}\n`);
  return 0;
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
