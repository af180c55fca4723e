import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("npm run demo", () => {
  it("shows a full agent round trip in sandbox mode without a key or network", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, "scripts/demo.mjs")], {
      env: { PATH: process.env.PATH ?? "" },
    });
    expect(stdout).toContain("sandbox mode: no key, no network");
    expect(stdout).toContain("check_passive_liveness");
    expect(stdout).toMatch(/"status":"Approved".*"sandbox":true/);
    expect(stdout).toMatch(/"next_action":"reject"/);
    expect(stdout).toContain("Error [path_not_allowed]");
    expect(stdout).toContain('"tag":"LOW_FACE_LUMINANCE"');
    expect(stdout).toContain("next_action = proceed");
  });
});
