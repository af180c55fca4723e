import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandboxClient, SANDBOX_OUTCOMES } from "../../src/didit/sandbox-client.js";
import { DOCUMENTED_TAGS, WARNING_CATALOG } from "../../src/warnings/catalog.js";
import { type InMemorySession, startInMemory, testConfig, textOf } from "../support/in-memory.js";

const SAMPLES = path.resolve(import.meta.dirname, "../../samples");

describe("resources and prompt, fed by the catalog", () => {
  let s: InMemorySession;
  beforeAll(async () => {
    s = await startInMemory(testConfig({ allowedDirs: [SAMPLES] }));
  });
  afterAll(() => s.close());

  it("serves the whole catalog at didit-liveness://warnings", async () => {
    const { resources } = await s.client.listResources();
    expect(resources.map((r) => r.uri)).toContain("didit-liveness://warnings");
    const read = await s.client.readResource({ uri: "didit-liveness://warnings" });
    const content = read.contents[0];
    expect(content?.mimeType).toBe("application/json");
    const body = JSON.parse(String(content && "text" in content ? content.text : "")) as {
      warnings: unknown[];
    };
    expect(body.warnings).toEqual(JSON.parse(JSON.stringify(WARNING_CATALOG)));
  });

  it("serves one tag through the template, lists every tag, and completes tag names", async () => {
    const { resourceTemplates } = await s.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(["didit-liveness://warnings/{tag}"]);
    const read = await s.client.readResource({ uri: "didit-liveness://warnings/LOW_FACE_LUMINANCE" });
    const content = read.contents[0];
    expect(JSON.parse(String(content && "text" in content ? content.text : ""))).toMatchObject({
      tag: "LOW_FACE_LUMINANCE",
      known: true,
      next_action: "retake",
    });
    const unknown = await s.client.readResource({ uri: "didit-liveness://warnings/NOPE" });
    const unknownContent = unknown.contents[0];
    expect(
      JSON.parse(String(unknownContent && "text" in unknownContent ? unknownContent.text : "")),
    ).toMatchObject({
      known: false,
    });
    const { resources } = await s.client.listResources();
    for (const tag of DOCUMENTED_TAGS)
      expect(resources.map((r) => r.uri)).toContain(`didit-liveness://warnings/${tag}`);
    const completion = await s.client.complete({
      ref: { type: "ref/resource", uri: "didit-liveness://warnings/{tag}" },
      argument: { name: "tag", value: "low" },
    });
    expect(completion.completion.values).toEqual([
      "LOW_LIVENESS_SCORE",
      "LOW_FACE_QUALITY",
      "LOW_FACE_LUMINANCE",
      "LOW_FACE_MATCH_SIMILARITY",
    ]);
  });

  it("refuses a tag URI with broken percent-encoding as invalid params (-32602), not an internal error", async () => {
    const read = s.client.readResource({ uri: "didit-liveness://warnings/%E0%A4%A" });
    await expect(read).rejects.toMatchObject({ code: -32602 });
    await expect(read).rejects.toThrow(/not a valid percent-encoded warning tag/);
  });

  it("offers a liveness_check prompt that walks through check, interpretation and next action", async () => {
    const { prompts } = await s.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(["liveness_check", "identity_check"]);
    const prompt = await s.client.getPrompt({ name: "liveness_check", arguments: { image: "selfie.jpg" } });
    const text = prompt.messages.map((m) => (m.content.type === "text" ? m.content.text : "")).join("\n");
    expect(text).toContain("selfie.jpg");
    expect(text).toContain("check_passive_liveness");
    expect(text).toContain("explain_warning");
    for (const action of ["proceed", "retake", "review", "reject"]) expect(text).toContain(`\`${action}\``);
    expect(text).toContain("LIVENESS_FACE_ATTACK");
    expect(text, "face-match tags stay out of the liveness walk-through").not.toContain("NO_REFERENCE_IMAGE");
  });

  it("offers an identity_check prompt for the combined flow, with both tag lists from the catalog", async () => {
    const prompt = await s.client.getPrompt({
      name: "identity_check",
      arguments: { selfie: "selfie.jpg", reference: "id.jpg" },
    });
    const text = prompt.messages.map((m) => (m.content.type === "text" ? m.content.text : "")).join("\n");
    expect(text).toContain("`selfie.jpg`");
    expect(text).toContain("`id.jpg`");
    expect(text).toContain("verify_selfie");
    expect(text).toContain("match_faces");
    expect(text).toMatch(
      /Face-match tags: NO_FACE_DETECTED, LOW_FACE_MATCH_SIMILARITY, NO_REFERENCE_IMAGE\./,
    );
    for (const action of ["proceed", "retake", "review", "reject"]) expect(text).toContain(`\`${action}\``);
  });

  it("states in its instructions what it does, that it uploads, and the allowed dirs", () => {
    const instructions = s.client.getInstructions() ?? "";
    expect(instructions).toMatch(/uploads the image to Didit/);
    expect(instructions).toContain(SAMPLES);
  });
});

describe("sandbox mode", () => {
  let s: InMemorySession;
  beforeAll(async () => {
    s = await startInMemory(testConfig({ allowedDirs: [SAMPLES], sandbox: true }), createSandboxClient());
  });
  afterAll(() => s.close());

  const expected: Record<(typeof SANDBOX_OUTCOMES)[number], string> = {
    approved: "proceed",
    spoof: "reject",
    no_face: "retake",
    multiple_faces: "review",
    low_score: "retake",
    blocklist: "reject",
    possible_blocklist: "review",
    duplicate: "review",
    rate_limited: "Error [rate_limited]",
    upstream_error: "Error [upstream_error]",
    // Face-match outcomes shape only the face-match call; the liveness check approves.
    match: "proceed",
    no_match: "proceed",
    no_face_ref: "proceed",
    match_review: "proceed",
    match_upstream_error: "proceed",
  };

  it.each(SANDBOX_OUTCOMES)(
    "vendor_data sandbox:%s gives its outcome, marked as sandbox",
    async (outcome) => {
      const result = await s.call("check_passive_liveness", {
        image_path: "selfie.jpg",
        vendor_data: `sandbox:${outcome}`,
      });
      const want = expected[outcome];
      if (want.startsWith("Error")) {
        expect(textOf(result).startsWith(want)).toBe(true);
        return;
      }
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ sandbox: true, next_action: want });
      expect((result.structuredContent as { summary: string }).summary).toMatch(
        /^\[Sandbox: .*not a real verdict\]/,
      );
    },
  );

  it("still validates the image for real", async () => {
    expect(textOf(await s.call("check_passive_liveness", { image_path: "NOTICE.md" }))).toMatch(
      /^Error \[not_an_image\]/,
    );
    expect(textOf(await s.call("check_passive_liveness", { image_path: "/etc/hostname" }))).toMatch(
      /^Error \[path_not_allowed\]/,
    );
  });

  it("applies the threshold like Didit", async () => {
    const result = await s.call("check_passive_liveness", {
      image_path: "selfie.jpg",
      face_liveness_score_decline_threshold: 95,
    });
    expect(result.structuredContent).toMatchObject({ status: "Declined", next_action: "retake" });
  });

  it("says so in the server instructions and the tool description", async () => {
    expect(s.client.getInstructions()).toMatch(/^SANDBOX MODE/);
    const { tools } = await s.client.listTools();
    expect(tools.find((t) => t.name === "check_passive_liveness")?.description).toMatch(/^SANDBOX MODE/);
  });
});
