import { describe, expect, it } from "vitest";
import { FREE_TOOL_NAMES, TOOL_NAMES } from "../../src/config/tool-names.js";
import { FREE_TOOLS, TOOLS } from "../../src/server/tools/index.js";

// config checks --tools against these names without loading the tools: they must be the tools' own names.
describe("tool names", () => {
  it("config's list is the server's tools, in the same order", () => {
    expect(TOOL_NAMES).toEqual(TOOLS.map((tool) => tool.name));
    expect(FREE_TOOL_NAMES).toEqual(FREE_TOOLS.map((tool) => tool.name));
  });
});
