import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runCliInProcess } from "../support/cli-in-process.js";
import { baseEnv, SERVER_ENTRY } from "../support/spawn.js";

const run = promisify(execFile);

describe("a mistyped option", () => {
  // Each command's own options, a batch's, and the global ones before a command or with none.
  const cases: [string[], string, string][] = [
    [["check", "x.jpg", "--treshold", "5"], "--treshold", "--threshold"],
    [["check", "a.jpg", "b.jpg", "--concurency", "2"], "--concurency", "--concurrency"],
    [["match", "a.jpg", "b.jpg", "--treshold=40"], "--treshold", "--threshold"],
    [["verify", "a.jpg", "b.jpg", "--liveness-treshold", "5"], "--liveness-treshold", "--liveness-threshold"],
    [["calibrate", "--bona-fid", "live", "--attack", "print"], "--bona-fid", "--bona-fide"],
    [["precheck", "x.jpg", "--rotat"], "--rotat", "--rotate"],
    [["explain", "FACE_NOT_FOUND", "--jsno"], "--jsno", "--json"],
    [["doctor", "--sandbx"], "--sandbx", "--sandbox"],
    [["--sandbx", "check", "x.jpg"], "--sandbx", "--sandbox"],
    [["check", "x.jpg", "--allow-hardlink"], "--allow-hardlink", "--allow-hardlinks"],
  ];

  it.each(cases)(
    "%j names it, suggests the nearest option and points to --help",
    async (argv, typed, meant) => {
      const r = await runCliInProcess(argv, { env: { DIDIT_SANDBOX: undefined } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`Unknown option '${typed}'; did you mean ${meant}?`);
      expect(r.stderr).toContain("--help");
      expect(r.stdout).not.toContain("Verdict");
    },
  );

  it("suggests nothing for an option close to none, and still names it and points to --help", async () => {
    const r = await runCliInProcess(["check", "x.jpg", "--frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--frobnicate'");
    expect(r.stderr).not.toContain("did you mean");
    expect(r.stderr).toContain("--help");
  });

  it("the server's own flags, with no command, get the same suggestion", async () => {
    const failed = await run(process.execPath, [SERVER_ENTRY, "--alow-dir", "/tmp"], { env: baseEnv() }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain("Unknown option '--alow-dir'; did you mean --allow-dir?");
    expect(failed?.stderr).toContain("--help");
  });
});
