import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ToolFailure } from "../../src/core/errors.js";
import { sniffImageType } from "../../src/images/sniff.js";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");

describe("sniffImageType", () => {
  it("refuses an iPhone-style HEIC photo with a hint that says how to export it as JPEG", async () => {
    // syn_live_T1.heic: the T1 fixture encoded with libheif's heif-enc (HEVC), as an iPhone saves photos.
    const bytes = await readFile(path.join(FIXTURES, "syn_live_T1.heic"));
    const failure = await sniffImageType(bytes).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ToolFailure);
    const { code, message, hint } = failure as ToolFailure;
    expect(code).toBe("not_an_image");
    expect(message).toMatch(/HEIC/);
    expect(hint).toMatch(/Most Compatible/);
    expect(hint).toMatch(/sips -s format jpeg/);
  });

  it("accepts a JPEG by its bytes", async () => {
    const bytes = await readFile(path.join(FIXTURES, "live_silentface_T1.jpg"));
    await expect(sniffImageType(bytes)).resolves.toEqual({ mime: "image/jpeg", ext: "jpg" });
  });
});
