import { describe, expect, it } from "vitest";
import { classifyKeyCheck } from "../../src/didit/client.js";
import { DIDIT_BODIES } from "../support/didit-double.js";

/** doctor's key check: what each documented answer to a POST without user_image says about the key. */
describe("classifyKeyCheck", () => {
  it("a 400 naming user_image: the key was accepted and nothing was processed", () => {
    const check = classifyKeyCheck(400, JSON.stringify({ user_image: ["No file was submitted."] }));
    expect(check).toMatchObject({ verdict: "accepted", status: 400 });
    expect(check.message).toMatch(/no credit was spent/);
  });

  it.each([
    ["403 permission (a missing or invalid key)", 403, DIDIT_BODIES.permissionDenied, "refused"],
    ["401 (older docs)", 401, JSON.stringify({ detail: "Invalid API key." }), "refused"],
    ["403 credits", 403, DIDIT_BODIES.noCredits, "no_credits"],
    ["402", 402, JSON.stringify({ detail: "Payment required" }), "no_credits"],
    ["429", 429, DIDIT_BODIES.rateLimited, "rate_limited"],
  ] as const)("%s: %s, with the mapped message and hint", (_what, status, body, verdict) => {
    const check = classifyKeyCheck(status, body, 30);
    expect(check).toMatchObject({ verdict, status });
    expect(check.hint).toBeTruthy();
    // 401/403 bodies are never quoted (an echo of the credentials is likeliest there).
    if (status === 401 || status === 403) expect(check.message).not.toContain("permission");
  });

  it("a 200 is reported as working but possibly billed", () => {
    expect(classifyKeyCheck(200, "{}")).toMatchObject({
      verdict: "billed",
      message: expect.stringMatching(/a credit may have been spent/),
    });
  });

  it.each([
    ["a 400 about another field", 400, JSON.stringify({ metadata: ["Invalid JSON."] })],
    ["a 404 (a wrong base URL)", 404, JSON.stringify({ detail: "Not found." })],
    ["a 500 without JSON", 500, "<html>Bad gateway</html>"],
  ])("%s is unexpected, without the 'may have been billed' hint", (_what, status, body) => {
    const check = classifyKeyCheck(status, body);
    expect(check).toMatchObject({ verdict: "unexpected", status });
    expect(check.hint).toBeUndefined();
    expect(check.message).not.toMatch(/billed/);
  });
});
