import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCliInProcess } from "../support/cli-in-process.js";

const JPEG = path.resolve(import.meta.dirname, "../fixtures/live_silentface_T1.jpg");

describe("a missing score, as the human output prints it", () => {
  it.each([
    [["verify", JPEG, JPEG, "--vendor-data", "sandbox:no_face_ref"], "2. Face match: Declined · score n/a ·"],
    [["verify", JPEG, JPEG, "--vendor-data", "sandbox:no_face"], "1. Liveness: Declined · score n/a ·"],
    [
      ["match", JPEG, JPEG, "--vendor-data", "sandbox:no_face_ref"],
      "Score: n/a · faces: selfie 1, reference 0",
    ],
    [["check", JPEG, "--vendor-data", "sandbox:no_face"], "Score: n/a · face quality: n/a"],
  ])("%j says n/a, never n/a/100", async (argv, line) => {
    const r = await runCliInProcess([...argv, "--sandbox"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(line);
    expect(r.stdout).not.toContain("n/a/100");
  });

  it("a score there is keeps its /100", async () => {
    const r = await runCliInProcess(["verify", JPEG, JPEG, "--sandbox"]);
    expect(r.stdout).toMatch(/1\. Liveness: Approved · score \d+(\.\d)?\/100 ·/);
    expect(r.stdout).toMatch(/2\. Face match: Approved · score \d+(\.\d)?\/100 ·/);
  });
});
