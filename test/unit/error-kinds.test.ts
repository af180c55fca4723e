import { describe, expect, it } from "vitest";
import { ERROR_CODES, ERROR_KINDS, isInputFailure } from "../../src/core/errors.js";

describe("ERROR_KINDS: which failures are the input's and which stop a run, once", () => {
  it("gives every code a kind", () => {
    expect(Object.keys(ERROR_KINDS).sort()).toEqual([...ERROR_CODES].sort());
  });

  it("the CLI's usage exit: local input, URL and declined-spend failures", () => {
    expect(ERROR_CODES.filter(isInputFailure)).toEqual([
      "invalid_input",
      "path_not_allowed",
      "file_not_found",
      "not_an_image",
      "too_large",
      "url_not_allowed",
      "url_fetch_failed",
      "consent_declined",
    ]);
  });

  it("stops a batch or calibration on failures that would repeat for every image", () => {
    expect(ERROR_CODES.filter((code) => ERROR_KINDS[code] === "stop")).toEqual([
      "not_configured",
      "unauthorized",
      "forbidden",
      "insufficient_credits",
      "rate_limited",
      "cancelled",
    ]);
  });
});
