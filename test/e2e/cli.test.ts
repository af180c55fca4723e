import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCliInProcess } from "../support/cli-in-process.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { startInMemory, testConfig } from "../support/in-memory.js";
import { baseEnv, SERVER_ENTRY } from "../support/spawn.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
const JPEG = path.join(FIXTURES, "live_silentface_T1.jpg");
const run = promisify(execFile);

let double: DiditDouble;
beforeAll(async () => {
  double = await startDiditDouble();
});
afterEach(() => double.reset());
afterAll(() => double.close());

/** The command line in this process; the two smoke tests at the end run the built binary instead. */
const cli = (args: string[], env: Record<string, string | undefined> = {}) => runCliInProcess(args, { env });

/** The built binary, for what only a process shows: its exit code and how it ends. */
async function spawnCli(args: string[], env: Record<string, string | undefined> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [SERVER_ENTRY, ...args], { env: baseEnv(env) });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const keyed = () => ({ DIDIT_API_KEY: TEST_API_KEY, DIDIT_BASE_URL: double.url });

describe("didit-passive-liveness-mcp check", () => {
  it("prints a human verdict and exits 0 for Approved", async () => {
    const r = await cli(["check", JPEG], keyed());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Verdict: Approved \(live person\) · next action: proceed/m);
    expect(r.stdout).toMatch(/Score: 95\/100/);
    expect(r.stderr).toBe("");
  });

  it("exits 1 for Declined and explains each warning with what to do", async () => {
    double.enqueue({ kind: "no_face" });
    const r = await cli(["check", JPEG], keyed());
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("NO_FACE_DETECTED (error): No Face Detected");
    expect(r.stdout).toMatch(/What to do: .+/);
  });

  it("--json prints exactly the MCP tool's structured result, and flags map to Didit fields", async () => {
    const args = [
      "--threshold",
      "40",
      "--rotate",
      "--vendor-data",
      "u-1",
      "--metadata",
      '{"a":1}',
      "--no-save",
    ];
    const r = await cli(["check", JPEG, ...args, "--json"], keyed());
    expect(r.code).toBe(0);
    const fromCli = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(double.requests[0]?.fields).toEqual({
      face_liveness_score_decline_threshold: "40",
      rotate_image: "true",
      save_api_request: "false",
      vendor_data: "u-1",
      metadata: '{"a":1}',
    });
    const session = await startInMemory(
      testConfig({ apiKey: TEST_API_KEY, baseUrl: double.url, allowedDirs: [FIXTURES] }),
    );
    try {
      const result = await session.call("check_passive_liveness", {
        image_path: "live_silentface_T1.jpg",
        face_liveness_score_decline_threshold: 40,
        rotate_image: true,
        vendor_data: "u-1",
        metadata: { a: 1 },
        save_api_request: false,
      });
      const fromTool = result.structuredContent as Record<string, unknown>;
      expect({ ...fromCli, created_at: null }).toEqual({ ...fromTool, created_at: null });
    } finally {
      await session.close();
    }
  });

  it.each([
    [["check"], "needs an image path"],
    [["check", JPEG, "--threshold", "150"], "--threshold"],
    [["check", JPEG, "--metadata", "[1]"], "JSON object"],
    [["check", JPEG, "--bogus"], "bogus"],
    [["check", path.join(FIXTURES, "SOURCES.md")], "not_an_image"],
    [["check", path.join(FIXTURES, "missing.jpg")], "file_not_found"],
  ])("exits 2 for usage or input errors: %j", async (args, mention) => {
    const r = await cli(args, keyed());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(mention);
    expect(double.requests).toHaveLength(0);
  });

  it("exits 3 for configuration and API errors, never echoing the key", async () => {
    const noKey = await cli(["check", JPEG], { DIDIT_BASE_URL: double.url });
    expect(noKey.code).toBe(3);
    expect(noKey.stderr).toMatch(/^Error \[not_configured\]/);
    double.enqueue({ kind: "status", status: 401, body: '{"detail":"Invalid API key."}' });
    const denied = await cli(["check", JPEG], keyed());
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/^Error \[unauthorized\]/);
    expect(denied.stderr + denied.stdout).not.toContain(TEST_API_KEY);
  });

  it("reports a bad environment as a configuration error, not a bug, and ignores the server's allowed dirs", async () => {
    const bad = await cli(["check", JPEG], { ...keyed(), DIDIT_TIMEOUT_MS: "abc" });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^Error \[not_configured\]: DIDIT_TIMEOUT_MS/);
    const staleDirs = await cli(["check", JPEG], { ...keyed(), DIDIT_ALLOWED_DIRS: "/definitely/missing" });
    expect(staleDirs.code).toBe(0);
  });

  it("--sandbox answers offline without a key and says so", async () => {
    const r = await cli(["check", JPEG, "--sandbox", "--vendor-data", "sandbox:spoof"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^SANDBOX: mocked result, not a real verdict/);
    expect(r.stdout).toContain("next action: reject");
    expect(double.requests).toHaveLength(0);
  });
});

describe("didit-passive-liveness-mcp precheck", { timeout: 120_000 }, () => {
  it("prints the local verdict: exit 0 when ready, 1 when the photo should be retaken; nothing is uploaded", async () => {
    const ready = await cli(["precheck", JPEG], keyed());
    expect(ready.code).toBe(0);
    expect(ready.stdout).toMatch(/^Ready: yes · next action: proceed/m);
    expect(ready.stdout).toMatch(/^Spoof estimate: \d+(\.\d)?\/100/m);
    expect(ready.stderr).toBe("");
    const noFace = await cli(["precheck", path.join(FIXTURES, "syn_no_face_gradient.png")]);
    expect(noFace.code).toBe(1);
    expect(noFace.stdout).toMatch(/^Ready: no · next action: retake/m);
    expect(noFace.stdout).toContain("  - NO_FACE_DETECTED: ");
    expect(noFace.stdout).toMatch(/^Tell the person: .+/m);
    expect(double.requests).toHaveLength(0);
  });

  it("--json prints exactly the MCP tool's structured result", async () => {
    const image = path.join(FIXTURES, "syn_rot90.jpg");
    const r = await cli(["precheck", image, "--rotate", "--json"]);
    expect(r.code).toBe(0);
    const fromCli = JSON.parse(r.stdout) as Record<string, unknown>;
    const session = await startInMemory(testConfig({ allowedDirs: [FIXTURES] }));
    try {
      const result = await session.call("precheck_face_image", {
        image_path: "syn_rot90.jpg",
        rotate_image: true,
      });
      const fromTool = result.structuredContent as Record<string, unknown>;
      expect(fromTool.best_angle).not.toBe(0);
      expect({ ...fromCli, elapsed_ms: null }).toEqual({ ...fromTool, elapsed_ms: null });
    } finally {
      await session.close();
    }
  });

  it.each([
    ["no image", [], "needs exactly one image path"],
    ["an unknown flag", [JPEG, "--threshold", "3"], "invalid_input"],
    ["a missing file", [path.join(FIXTURES, "missing.jpg")], "file_not_found"],
    ["a file that is not an image", [path.join(FIXTURES, "SOURCES.md")], "not_an_image"],
  ])("exits 2 for %s", async (_, args, mention) => {
    const r = await cli(["precheck", ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(mention);
  });

  it("exits 3 for a wrong DIDIT_PRECHECK_MODELS_DIR, naming it", async () => {
    const r = await cli(["precheck", JPEG], { DIDIT_PRECHECK_MODELS_DIR: FIXTURES });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^Error \[not_configured\]: DIDIT_PRECHECK_MODELS_DIR .*fixtures lacks/);
  });
});

describe("didit-passive-liveness-mcp explain", () => {
  it("explains a tag in words, or as JSON", async () => {
    const r = await cli(["explain", "low liveness score"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^LOW_LIVENESS_SCORE: Low Liveness Score/);
    const json = await cli(["explain", "LOW_LIVENESS_SCORE", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ tag: "LOW_LIVENESS_SCORE", known: true });
  });

  it("exits 2 for an unknown tag with a standard error on stderr listing every tag, local-only ones included", async () => {
    const r = await cli(["explain", "NOT_A_TAG"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^Error \[invalid_input\]: NOT_A_TAG is not a known warning tag\.\nHint: Known tags: /,
    );
    expect(r.stderr).toContain("NO_FACE_DETECTED");
    expect(r.stderr).toContain("FACE_TOO_SMALL");
    expect(r.stderr).toContain("SECOND_FACE_LOOKS_LIKE_A_REPRODUCTION");
  });

  it("explains the local-only pre-check tags", async () => {
    const r = await cli(["explain", "FACE_TOO_SMALL"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^FACE_TOO_SMALL: /);
  });
});

describe("the command line as a person types it", () => {
  it("takes global options before the command (--sandbox check x.jpg)", async () => {
    const r = await cli(["--sandbox", "check", JPEG]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/SANDBOX/);
  });

  it("names an unknown command and lists the commands, exit 2, nothing on stdout", async () => {
    const r = await cli(["chekc", JPEG]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^Error \[invalid_input\]: Unknown command "chekc"\.\nHint: The commands are check, /,
    );
    expect(r.stderr).not.toMatch(/positional arguments/);
  });

  it("prints one command's help for <command> --help, exit 0", async () => {
    const r = await cli(["match", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage:\n {2}didit-passive-liveness-mcp match /);
    expect(r.stdout).not.toContain("didit-passive-liveness-mcp check ");
    expect(r.stderr).toBe("");
  });
});

describe("the built binary (smoke)", () => {
  it("--sandbox check x.jpg: the process exits with the verdict's code (1 Declined) and prints the verdict", async () => {
    const declined = await spawnCli(["--sandbox", "check", JPEG, "--vendor-data", "sandbox:spoof"]);
    expect(declined.code).toBe(1);
    expect(declined.stdout).toMatch(/^SANDBOX: mocked result/);
    expect(declined.stdout).toContain("next action: reject");
    expect(declined.stderr).toBe("");
  });

  it("ends quietly when the reader closes its stdout (| head), without an EPIPE stack trace", async () => {
    const child = spawn(process.execPath, [SERVER_ENTRY, "explain", "LOW_LIVENESS_SCORE"], {
      env: baseEnv({}),
    });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });
});
