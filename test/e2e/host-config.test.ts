import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { expectTheFiveTools, startAsHost } from "../support/install-forms.js";
import { binEnv, ROOT } from "../support/packed.js";
import { SERVER_ENTRY } from "../support/spawn.js";

// `didit-passive-liveness-mcp config <host>`: each host's snippet for this copy, printed by the built command as a
// person runs it, with a real-looking key in the environment that must never be copied into the snippet.

const FIXTURES = path.join(ROOT, "test", "fixtures");
const SECRET = "real-key-from-the-env-0123456789";

function config(args: string[]) {
  const result = spawnSync(process.execPath, [SERVER_ENTRY, "config", ...args], {
    cwd: ROOT,
    env: { ...binEnv(), DIDIT_API_KEY: SECRET },
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(result.stdout).not.toContain(SECRET);
  expect(result.stderr).not.toContain(SECRET);
  return result;
}

/** The words of a printed shell line (single quotes only, as the command prints them). */
function shellWords(line: string): string[] {
  return [...line.trim().matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) =>
    m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : (m[2] ?? ""),
  );
}

const THIS_COPY = [process.execPath, SERVER_ENTRY];

describe("config <host> prints a snippet that starts this copy", () => {
  it("claude-desktop: valid JSON, absolute paths, the key a placeholder; the printed command lists the five tools", async () => {
    const result = config(["claude-desktop", "--allow-dir", "test/fixtures"]);
    expect(result.status, result.stderr).toBe(0);
    const entry = JSON.parse(result.stdout).mcpServers["didit-liveness"];
    expect([entry.command, ...entry.args]).toEqual([...THIS_COPY, "--allow-dir", FIXTURES]);
    expect(entry.env).toEqual({ DIDIT_API_KEY: "your-didit-api-key" });
    expect(result.stderr).toContain("claude_desktop_config.json");
    // Started as the host would start it, from another folder.
    await expectTheFiveTools(await startAsHost([entry.command, ...entry.args], binEnv(), "/"));
  });

  it("cursor: the same mcpServers JSON", () => {
    const result = config(["cursor", "--allow-dir", FIXTURES, "--allow-dir", "samples"]);
    expect(result.status, result.stderr).toBe(0);
    const entry = JSON.parse(result.stdout).mcpServers["didit-liveness"];
    expect(entry.args).toEqual([
      SERVER_ENTRY,
      "--allow-dir",
      FIXTURES,
      "--allow-dir",
      path.join(ROOT, "samples"),
    ]);
    expect(entry.env.DIDIT_API_KEY).toBe("your-didit-api-key");
  });

  it("vscode: valid JSON with a prompted, password input for the key", () => {
    const result = config(["vscode", "--allow-dir", "test/fixtures"]);
    expect(result.status, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed.inputs).toEqual([
      { type: "promptString", id: "didit-api-key", description: "Didit API key", password: true },
    ]);
    expect(parsed.servers["didit-liveness"]).toEqual({
      type: "stdio",
      command: process.execPath,
      args: [SERVER_ENTRY, "--allow-dir", FIXTURES],
      env: { DIDIT_API_KEY: `\${input:didit-api-key}` },
    });
  });

  it("claude-code: one claude mcp add line with the key as -e and this copy after --", async () => {
    const result = config(["claude-code", "--allow-dir", "test/fixtures"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    const words = shellWords(result.stdout);
    expect(words).toEqual([
      "claude",
      "mcp",
      "add",
      "didit-liveness",
      "-e",
      "DIDIT_API_KEY=your-didit-api-key",
      "--",
      ...THIS_COPY,
      "--allow-dir",
      FIXTURES,
    ]);
    await expectTheFiveTools(await startAsHost(words.slice(7), binEnv(), "/"));
  });

  it("openclaw: openclaw mcp set with the entry as one JSON word", () => {
    const result = config(["openclaw", "--allow-dir", "test/fixtures", "--sandbox"]);
    expect(result.status, result.stderr).toBe(0);
    const words = shellWords(result.stdout);
    expect(words.slice(0, 4)).toEqual(["openclaw", "mcp", "set", "didit-liveness"]);
    expect(JSON.parse(words[4] ?? "")).toEqual({
      command: process.execPath,
      args: [SERVER_ENTRY, "--allow-dir", FIXTURES, "--sandbox"],
      env: {},
    });
  });

  it("an unknown host or a missing folder is a usage error (exit 2) naming the hosts", () => {
    const unknown = config(["zed"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("claude-desktop, claude-code, cursor, vscode, openclaw");
    const missing = config(["cursor", "--allow-dir", "no-such-folder"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(path.join(ROOT, "no-such-folder"));
    expect(missing.stdout).toBe("");
  });

  it("stays out of the server's start: dist/index.js does not hold the command's code (a lazy chunk does)", () => {
    expect(readFileSync(SERVER_ENTRY, "utf8")).not.toContain("claude_desktop_config.json");
  });
});
