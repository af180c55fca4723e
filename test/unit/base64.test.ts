import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_IMAGE_BYTES } from "../../src/config/config.js";
import { ToolFailure } from "../../src/core/errors.js";
import { decodeBase64Image } from "../../src/images/base64.js";
import { failureOf } from "../support/expectations.js";

/** Runs fn and returns the ToolFailure it throws; fails the test if it returns or throws anything else. */
const PNG_HEADER = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const PNG_B64 = Buffer.from(PNG_HEADER).toString("base64");

describe("decodeBase64Image: accepted forms", () => {
  it("decodes raw base64", () => {
    expect(decodeBase64Image(PNG_B64)).toEqual(Buffer.from(PNG_HEADER));
  });

  it("decodes a data:image/png;base64, URL", () => {
    expect(decodeBase64Image(`data:image/png;base64,${PNG_B64}`)).toEqual(Buffer.from(PNG_HEADER));
  });

  it("decodes a data URL with extra parameters, upper-case scheme and leading whitespace", () => {
    const out = decodeBase64Image(`  \nDATA:image/jpeg;name=selfie.jpg;BASE64,${PNG_B64}`);
    expect(out).toEqual(Buffer.from(PNG_HEADER));
  });

  it("decodes a data URL with an empty media type", () => {
    expect(decodeBase64Image(`data:;base64,${PNG_B64}`)).toEqual(Buffer.from(PNG_HEADER));
  });

  it("strips spaces, tabs, CR and LF anywhere in the body", () => {
    const wrapped = `${PNG_B64.slice(0, 4)}\r\n${PNG_B64.slice(4, 8)} \t${PNG_B64.slice(8)}\n`;
    expect(decodeBase64Image(wrapped)).toEqual(Buffer.from(PNG_HEADER));
    expect(decodeBase64Image(`data:image/png;base64,\n${wrapped}`)).toEqual(Buffer.from(PNG_HEADER));
  });

  it("accepts the base64url alphabet (- and _), with or without padding", () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0xfe, 0x3f]);
    const url = bytes.toString("base64url");
    expect(url).toMatch(/[-_]/);
    expect(decodeBase64Image(url)).toEqual(bytes);
    expect(decodeBase64Image(`${url}=`)).toEqual(bytes);
  });

  it("accepts unpadded standard base64", () => {
    expect(decodeBase64Image("AAE")).toEqual(Buffer.from([0, 1]));
    expect(decodeBase64Image("AAE=")).toEqual(Buffer.from([0, 1]));
    expect(decodeBase64Image("AA==")).toEqual(Buffer.from([0]));
  });
});

describe("decodeBase64Image: refusals", () => {
  it.each([
    ["a character outside both alphabets", "AAAA*AAA"],
    ["a mix of standard and url-safe alphabets", "AB+_"],
    ["a non-ASCII letter", "AAAÄ"],
    ["padding in the middle", "AA==AAAA"],
    ["three padding characters", "A==="],
  ])("refuses %s with invalid_input", (_what, input) => {
    const f = failureOf(() => decodeBase64Image(input));
    expect(f.code).toBe("invalid_input");
    expect(f.hint).toMatch(/base64/);
  });

  it.each([
    ["a length of 4n+1", "AAAAA"],
    ["a single character", "A"],
    ["padding on a length that is not a multiple of 4", "AA="],
    ["padding alone", "="],
    ["double padding alone", "=="],
    ["a truncated data URL body", "data:image/png;base64,AAAAB"],
  ])("refuses %s with invalid_input (truncated)", (_what, input) => {
    const f = failureOf(() => decodeBase64Image(input));
    expect(f.code).toBe("invalid_input");
    expect(f.message).toMatch(/length or padding|truncated/);
  });

  it.each([
    ["an empty string", ""],
    ["only whitespace", " \n\t\r\n "],
    ["a data URL with no body", "data:image/png;base64,"],
    ["a data URL whose body is whitespace", "data:image/png;base64,  \n"],
  ])("refuses %s with invalid_input (empty)", (_what, input) => {
    const f = failureOf(() => decodeBase64Image(input));
    expect(f.code).toBe("invalid_input");
    expect(f.message).toMatch(/empty/);
  });

  it("refuses a data URL that is not base64-encoded", () => {
    const f = failureOf(() => decodeBase64Image("data:image/png,%89PNG"));
    expect(f.code).toBe("invalid_input");
    expect(f.message).toContain(";base64");
  });

  it.each(["text/plain", "application/pdf", "video/mp4"])(
    "refuses a data URL declaring %s with not_an_image, naming the type",
    (mediaType) => {
      const f = failureOf(() => decodeBase64Image(`data:${mediaType};base64,${PNG_B64}`));
      expect(f.code).toBe("not_an_image");
      expect(f.message).toContain(mediaType);
      expect(f.hint).toMatch(/JPEG/);
    },
  );

  it("refuses a payload whose decoded size is over maxBytes with too_large, before decoding", () => {
    // 12 chars decode to 9 bytes.
    const f = failureOf(() => decodeBase64Image("AAAAAAAAAAAA", 8));
    expect(f.code).toBe("too_large");
    expect(f.message).toContain("9 B");
    expect(f.message).toContain("8 B");
    expect(f.hint).toMatch(/Resize|recompress/);
    expect(decodeBase64Image("AAAAAAAAAAAA", 9)).toHaveLength(9);
  });

  it("counts padding correctly at the maxBytes boundary", () => {
    // "AAAAAAAAAAA=" decodes to 8 bytes: allowed at 8, refused at 7.
    expect(decodeBase64Image("AAAAAAAAAAA=", 8)).toHaveLength(8);
    expect(failureOf(() => decodeBase64Image("AAAAAAAAAAA=", 7)).code).toBe("too_large");
  });

  it("does not count whitespace towards the size", () => {
    expect(decodeBase64Image("AAAA\n\n\n\n\n\n\n\nAAAA", 6)).toHaveLength(6);
  });
});

describe("decodeBase64Image: the 5 MB default", () => {
  it("is 5,242,880 bytes", () => {
    expect(MAX_IMAGE_BYTES).toBe(5_242_880);
  });

  it("accepts exactly 5,242,880 decoded bytes (6,990,507 unpadded chars) and refuses one byte more", () => {
    // 5,242,880 = 3 * 1,747,626 + 2, so it encodes to 1,747,626 * 4 + 3 unpadded characters.
    const exact = "A".repeat(6_990_507);
    expect(decodeBase64Image(exact).byteLength).toBe(5_242_880);
    expect(decodeBase64Image(`${exact}=`).byteLength).toBe(5_242_880);

    // 5,242,881 = 3 * 1,747,627 encodes to 6,990,508 characters.
    const over = failureOf(() => decodeBase64Image("A".repeat(6_990_508)));
    expect(over.code).toBe("too_large");
    expect(over.message).toContain("5.00 MB");
  });
});

describe("decodeBase64Image: properties", () => {
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 2048 });

  it("round-trips any non-empty byte array through standard base64", () => {
    fc.assert(
      fc.property(bytes, (b) => {
        const out = decodeBase64Image(Buffer.from(b).toString("base64"));
        expect(out).toEqual(Buffer.from(b));
      }),
    );
  });

  it("round-trips with whitespace inserted at random places", () => {
    const ws = fc.constantFrom(" ", "\n", "\r\n", "\t", "  \n ");
    fc.assert(
      fc.property(bytes, fc.array(fc.tuple(fc.nat(), ws), { maxLength: 20 }), (b, inserts) => {
        let text = Buffer.from(b).toString("base64");
        for (const [at, space] of inserts) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + space + text.slice(i);
        }
        expect(decodeBase64Image(text)).toEqual(Buffer.from(b));
      }),
    );
  });

  it("round-trips base64url, and data URLs", () => {
    fc.assert(
      fc.property(bytes, (b) => {
        expect(decodeBase64Image(Buffer.from(b).toString("base64url"))).toEqual(Buffer.from(b));
        const dataUrl = `data:image/jpeg;base64,${Buffer.from(b).toString("base64")}`;
        expect(decodeBase64Image(dataUrl)).toEqual(Buffer.from(b));
      }),
    );
  });

  it("never throws anything but a ToolFailure with an input error code", () => {
    const allowed = new Set(["invalid_input", "not_an_image", "too_large"]);
    const base64ish = fc
      .array(fc.constantFrom(..."AZaz09+/-_= \n\t".split(""), "data:", ";base64,", "image/png", "%", "é"), {
        maxLength: 60,
      })
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: "grapheme", maxLength: 200 }), fc.string({ maxLength: 200 }), base64ish),
        fc.integer({ min: 0, max: 300 }),
        (input, maxBytes) => {
          try {
            const out = decodeBase64Image(input, maxBytes);
            expect(Buffer.isBuffer(out)).toBe(true);
            expect(out.byteLength).toBeGreaterThan(0);
            expect(out.byteLength).toBeLessThanOrEqual(maxBytes);
          } catch (error) {
            expect(error).toBeInstanceOf(ToolFailure);
            expect(allowed.has((error as ToolFailure).code)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
