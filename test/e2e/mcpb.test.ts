import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, describe, expect, it } from "vitest";
import { baseEnv } from "../support/spawn.js";

// The Claude Desktop bundle, as built by `npm run bundle` (80 s, so not part of `npm test`'s build): this test
// runs when the .mcpb exists and is skipped otherwise. `npm run test:bundle` builds it and runs this file.
const ROOT = path.resolve(import.meta.dirname, "../..");
const BUNDLE = path.join(ROOT, "didit-passive-liveness-mcp.mcpb");
const FIXTURES = path.join(ROOT, "test", "fixtures");
const TOOLS = [
  "check_passive_liveness",
  "explain_warning",
  "match_faces",
  "precheck_face_image",
  "verify_selfie",
];
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Manifest {
  server: { mcp_config: { args: string[]; env: Record<string, string> } };
  user_config: Record<string, { type: string; sensitive?: boolean; multiple?: boolean }>;
  tools: { name: string }[];
  compatibility: { platforms: string[] };
}

function unpack(): { dir: string; manifest: Manifest } {
  const dir = mkdtempSync(path.join(tmpdir(), "didit-mcpb-"));
  dirs.push(dir);
  execFileSync("unzip", ["-q", BUNDLE, "-d", dir]);
  return { dir, manifest: JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as Manifest };
}

/** Starts the unpacked bundle the way Claude Desktop does: the user's settings substituted, folders inline. */
async function startBundle(dir: string, manifest: Manifest, env: Record<string, string>): Promise<Client> {
  const args = manifest.server.mcp_config.args.flatMap((arg) =>
    arg === `\${user_config.allowed_directories}` ? [FIXTURES] : [arg.replace(`\${__dirname}`, dir)],
  );
  const client = new Client({ name: "mcpb-test", version: "1" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args,
      env: baseEnv(env),
      cwd: dir,
      stderr: "ignore",
    }),
  );
  return client;
}

describe.skipIf(!existsSync(BUNDLE))("the MCPB bundle, unpacked", { timeout: 120_000 }, () => {
  it("starts the way Claude Desktop starts it and answers tools/list; the pre-check engine is inside", async () => {
    const { dir, manifest } = unpack();
    expect(manifest.user_config.api_key).toMatchObject({ type: "string", sensitive: true });
    expect(manifest.user_config.allowed_directories).toMatchObject({ type: "directory", multiple: true });
    expect(manifest.user_config.sandbox).toMatchObject({ type: "boolean" });
    const env = { DIDIT_API_KEY: "", DIDIT_SANDBOX: "true" };
    expect(Object.keys(manifest.server.mcp_config.env).sort()).toEqual(Object.keys(env).sort());
    const client = await startBundle(dir, manifest, env);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
      // The manifest lists what the server lists (it once listed 3 of the 5).
      expect(manifest.tools.map((t) => t.name).sort()).toEqual(TOOLS);
      const check = await client.callTool({
        name: "check_passive_liveness",
        arguments: { image_path: "live_silentface_T1.jpg" },
      });
      expect(check.isError).toBeFalsy();
      const pre = await client.callTool(
        { name: "precheck_face_image", arguments: { image_path: "live_silentface_T1.jpg" } },
        undefined,
        { timeout: 110_000 },
      );
      expect(pre.isError, JSON.stringify(pre.content)).toBeFalsy();
      expect(pre.structuredContent).toMatchObject({ engine: "local", faces_detected: 1 });
    } finally {
      await client.close();
    }
  });

  it("without a key, a check's not_configured hint points to the extension's settings, not to environment variables", async () => {
    const { dir, manifest } = unpack();
    const client = await startBundle(dir, manifest, { DIDIT_API_KEY: "", DIDIT_SANDBOX: "false" });
    try {
      const check = await client.callTool({
        name: "check_passive_liveness",
        arguments: { image_path: "live_silentface_T1.jpg" },
      });
      expect(check.isError).toBe(true);
      const text = JSON.stringify(check.content);
      expect(text).toContain("Error [not_configured]");
      expect(text).toContain("Settings > Extensions > Didit Passive Liveness");
      expect(text).not.toContain("DIDIT_API_KEY");
    } finally {
      await client.close();
    }
  });

  it("with no native sharp binary for the platform (any other OS), the pre-check runs on sharp's WebAssembly build", async () => {
    const { dir, manifest } = unpack();
    expect(manifest.compatibility.platforms.sort()).toEqual(["darwin", "linux", "win32"]);
    const img = path.join(dir, "node_modules", "@img");
    expect(readdirSync(img)).toContain("sharp-wasm32");
    // What a Mac or Windows machine sees: only this build machine's native packages are there, so drop them.
    for (const entry of readdirSync(img)) {
      if (/^sharp-(libvips-)?(darwin|linux|linuxmusl|win32)-/.test(entry))
        rmSync(path.join(img, entry), { recursive: true });
    }
    const client = await startBundle(dir, manifest, { DIDIT_API_KEY: "", DIDIT_SANDBOX: "true" });
    try {
      const pre = await client.callTool(
        { name: "precheck_face_image", arguments: { image_path: "live_silentface_T1.jpg" } },
        undefined,
        { timeout: 110_000 },
      );
      expect(pre.isError, JSON.stringify(pre.content)).toBeFalsy();
      expect(pre.structuredContent).toMatchObject({ engine: "local", faces_detected: 1 });
    } finally {
      await client.close();
    }
  });
});
