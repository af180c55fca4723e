import { describe, expect, it } from "vitest";
import { envSchema, envSettings } from "../../src/config/config.js";
import { ENV_DOCS } from "../../src/config/env-docs.js";

describe("env docs", () => {
  it("every variable the schema reads has its description, and no description names another", () => {
    expect(Object.keys(ENV_DOCS).sort()).toEqual(Object.keys(envSchema.shape).sort());
    for (const setting of envSettings()) expect(setting.description, setting.name).not.toBe("");
  });
});
