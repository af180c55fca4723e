/**
 * The no-spend mode (DIDIT_TOOLS / --tools): the server lists and serves only the chosen tools, over a real MCP
 * client, with the configuration read the way the server reads it.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { modelVisibleTools } from "../../scripts/render-tools-reference.mjs";
import { loadConfig, parseServerArgs } from "../../src/config/config.js";
import { type DiditDouble, startDiditDouble, TEST_API_KEY } from "../support/didit-double.js";
import { FIXTURES, type InMemorySession, startInMemory, textOf } from "../support/in-memory.js";
import { expectFreeToolListing } from "../support/tool-listing.js";

let double: DiditDouble;
const sessions: InMemorySession[] = [];

beforeAll(async () => {
  double = await startDiditDouble();
});
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  double.reset();
});
afterAll(() => double.close());

async function session(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<InMemorySession> {
  const config = await loadConfig(parseServerArgs(["--allow-dir", FIXTURES, ...argv]), {
    DIDIT_API_KEY: TEST_API_KEY,
    DIDIT_BASE_URL: double.url,
    ...env,
  });
  const s = await startInMemory(config);
  sessions.push(s);
  return s;
}

/** A refused call, whether the SDK throws its tool-not-found error or answers it as an error result. */
async function refusal(s: InMemorySession, name: string, args: Record<string, unknown>): Promise<string> {
  try {
    const result = await s.call(name, args);
    expect(result.isError).toBe(true);
    return textOf(result);
  } catch (error) {
    return (error as Error).message;
  }
}

describe("DIDIT_TOOLS=free", () => {
  it("lists exactly the two tools that never upload, and refuses a paid tool without calling Didit", async () => {
    const s = await session([], { DIDIT_TOOLS: "free" });
    const { tools } = await s.client.listTools();
    expectFreeToolListing(tools);

    const refused = await refusal(s, "check_passive_liveness", {
      image_path: `${FIXTURES}/syn_astronaut.jpg`,
    });
    expect(refused).toMatch(/check_passive_liveness/);
    expect(refused).toMatch(/not found|not enabled/i);
    for (const paid of ["match_faces", "verify_selfie"]) {
      expect(await refusal(s, paid, {})).toMatch(new RegExp(paid));
    }
    expect(double.requests).toEqual([]);

    const explained = await s.call("explain_warning", { tag: "LOW_LIVENESS_SCORE" });
    expect(explained.isError).toBeFalsy();
  });

  it("lists no prompt (both walk an agent through a paid tool), keeps the offline warning resources, and says so in its instructions", async () => {
    const s = await session(["--tools", "free"]);
    expect(s.client.getServerCapabilities()?.prompts).toBeUndefined();
    const { resources } = await s.client.listResources();
    expect(resources.map((r) => r.uri)).toContain("didit-liveness://warnings");
    const instructions = s.client.getInstructions() ?? "";
    expect(instructions).toMatch(/^NO-SPEND MODE: only explain_warning, precheck_face_image are enabled/);
    expect(instructions).not.toMatch(/check_passive_liveness uploads/);
  });
});

describe("a named list", () => {
  it("serves exactly the named tools, and the prompt whose tool is among them", async () => {
    const s = await session(["--tools", "check_passive_liveness, explain_warning"]);
    const { tools } = await s.client.listTools();
    expect(modelVisibleTools(tools).map((t) => t.name)).toEqual([
      "check_passive_liveness",
      "explain_warning",
    ]);
    const { prompts } = await s.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(["liveness_check"]);
    const checked = await s.call("check_passive_liveness", { image_path: `${FIXTURES}/syn_astronaut.jpg` });
    expect(checked.isError).toBeFalsy();
    expect(await refusal(s, "verify_selfie", {})).toMatch(/verify_selfie/);
  });

  it("without DIDIT_TOOLS or --tools every tool and both prompts are served", async () => {
    const s = await session([]);
    expect(modelVisibleTools((await s.client.listTools()).tools)).toHaveLength(5);
    expect((await s.client.listPrompts()).prompts.map((p) => p.name)).toEqual([
      "liveness_check",
      "identity_check",
    ]);
  });
});
