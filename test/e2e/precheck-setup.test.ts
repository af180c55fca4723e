import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/config.js";
import { readyLine } from "../support/packed.js";
import { baseEnv, SERVER_ENTRY } from "../support/spawn.js";

// DIDIT_PRECHECK_MODELS_DIR is checked at start-up like every other setting: a typo stops the server (exit 2)
// instead of silently dropping the spoof estimate at the first pre-check.

const MODELS = path.resolve(import.meta.dirname, "../../models/minifasnet");
const run = promisify(execFile);
const NO_ARGS = { allowDirs: [], sandbox: false };
let root: string;
let halfDir: string;

beforeAll(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "models-dir-")));
  halfDir = path.join(root, "half");
  await fs.mkdir(halfDir);
  await fs.copyFile(path.join(MODELS, "MiniFASNetV2.onnx"), path.join(halfDir, "MiniFASNetV2.onnx"));
});
afterAll(() => fs.rm(root, { recursive: true, force: true }));

const loadWith = (dir: string) => loadConfig(NO_ARGS, { DIDIT_PRECHECK_MODELS_DIR: dir });

describe("DIDIT_PRECHECK_MODELS_DIR", () => {
  it("a folder holding both model files is taken, as an absolute path", async () => {
    expect((await loadWith(MODELS)).precheckModelsDir).toBe(MODELS);
    expect((await loadWith(` ${path.relative(process.cwd(), MODELS)} `)).precheckModelsDir).toBe(MODELS);
    expect((await loadConfig(NO_ARGS, {})).precheckModelsDir).toBeUndefined();
  });

  it.each([
    ["a missing folder", () => path.join(root, "nope"), /nope does not exist or is not a directory/],
    ["a file", () => path.join(halfDir, "MiniFASNetV2.onnx"), /does not exist or is not a directory/],
    ["an empty folder", () => root, /lacks MiniFASNetV2\.onnx and MiniFASNetV1SE\.onnx/],
    ["a folder with one of the two", () => halfDir, /half lacks MiniFASNetV1SE\.onnx;/],
  ])("%s is a configuration error naming the folder", async (_, dir, message) => {
    const error = await loadWith(dir()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(dir());
  });

  it("a wrong folder stops the server at start-up with exit 2", async () => {
    const failure = await run(process.execPath, [SERVER_ENTRY], {
      env: baseEnv({ DIDIT_PRECHECK_MODELS_DIR: path.join(root, "nope") }),
      timeout: 10_000, // a server that starts anyway would wait on stdin for ever
    }).catch((e: unknown) => e as { code: number; stdout: string; stderr: string });
    expect(failure).toMatchObject({ code: 2, stdout: "" });
    expect((failure as { stderr: string }).stderr).toContain("DIDIT_PRECHECK_MODELS_DIR");
  });

  it("the ready line says whether the pre-check engine and models are available", async () => {
    expect(await readyLine(process.execPath, [SERVER_ENTRY], baseEnv())).toMatch(
      /, pre-check engine and models available\)$/,
    );
    expect(
      await readyLine(process.execPath, [SERVER_ENTRY], baseEnv({ DIDIT_PRECHECK_MODELS_DIR: MODELS })),
    ).toMatch(/, pre-check engine and models available\)$/);
  });
});
