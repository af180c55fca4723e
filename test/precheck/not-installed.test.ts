import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import {
  createPrecheckAnalyzer,
  installCommand,
  isPrecheckEngineAvailable,
} from "../../src/precheck/index.js";
import { ENGINE_PACKAGES, npxCommand, resolveEngine } from "../../src/precheck/loader.js";

vi.setConfig({ testTimeout: 60_000 });

// The pins live once, in package.json's peerDependencies (the same versions as the dev dependencies tested here).
const pkg = JSON.parse(await readFile(path.resolve(import.meta.dirname, "../../package.json"), "utf8")) as {
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
// In the engine's own order (npm may re-sort package.json's keys).
const SPECS = Object.values(ENGINE_PACKAGES).map((name) => `${name}@${pkg.peerDependencies[name]}`);
const PINNED = `npm i ${SPECS.join(" ")}`;

describe("engine availability", () => {
  it("is available here (the packages are dev dependencies) and resolves only local files", async () => {
    expect(await isPrecheckEngineAvailable()).toBe(true);
    const resolved = await resolveEngine();
    expect(resolved.humanEntry).toMatch(/human\.node-wasm\.js$/);
    expect(resolved.tfjsWasmDir).toMatch(/tfjs-backend-wasm[\\/]dist[\\/]$/);
    expect(resolved.spoofModels?.map((f) => path.basename(f))).toEqual([
      "MiniFASNetV2.onnx",
      "MiniFASNetV1SE.onnx",
    ]);
  });

  it("the install commands are made from package.json's peerDependencies, which pin exactly the tested versions", () => {
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(Object.values(ENGINE_PACKAGES).sort());
    for (const [name, version] of Object.entries(pkg.peerDependencies)) {
      expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
      expect(pkg.devDependencies[name], name).toBe(version);
    }
    expect(installCommand()).toBe(PINNED);
    expect(npxCommand()).toBe(
      `npx -y -p didit-passive-liveness-mcp ${SPECS.map((s) => `-p ${s}`).join(" ")} didit-passive-liveness-mcp`,
    );
  });

  it("the README shows exactly these commands, and it and docs/precheck.md name no other engine version", async () => {
    const readme = await readFile(path.resolve(import.meta.dirname, "../../README.md"), "utf8");
    const precheckDoc = await readFile(path.resolve(import.meta.dirname, "../../docs/precheck.md"), "utf8");
    expect(readme).toContain(installCommand());
    expect(readme).toContain(npxCommand());
    for (const text of [readme, precheckDoc]) {
      for (const [name, version] of Object.entries(pkg.peerDependencies)) {
        const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
        for (const [, mentioned] of text.matchAll(new RegExp(`${escaped}@([\\w.-]+)`, "g"))) {
          expect(mentioned, name).toBe(version);
        }
      }
    }
  });

  it.each(Object.keys(ENGINE_PACKAGES) as (keyof typeof ENGINE_PACKAGES)[])(
    "a missing %s package: unavailable, and analysis fails with not_configured and the install command",
    async (key) => {
      const locations = { packages: { [key]: `${ENGINE_PACKAGES[key]}-missing-for-test` } };
      expect(await isPrecheckEngineAvailable(locations)).toBe(false);
      const failure = await createPrecheckAnalyzer(locations)
        .analyze(new Uint8Array([0xff, 0xd8, 0xff]))
        .catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: "not_configured" });
      const { message, hint } = failure as { message: string; hint: string };
      expect(message).toContain(`${ENGINE_PACKAGES[key]}-missing-for-test`);
      expect(hint).toContain(PINNED);
    },
  );

  it("missing model files: still available, with no spoof estimate and a model name saying why", async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), "precheck-models-"));
    try {
      const resolved = await resolveEngine({ modelsDir: empty });
      expect(resolved.spoofModels).toBeUndefined();
      expect(resolved.spoofUnavailable).toContain(
        `not found in ${empty} (MiniFASNetV1SE.onnx, MiniFASNetV2.onnx); set DIDIT_PRECHECK_MODELS_DIR`,
      );
      expect(await isPrecheckEngineAvailable({ modelsDir: empty })).toBe(true);
      const fixture = path.resolve(import.meta.dirname, "../fixtures/live_silentface_T1.jpg");
      const analysis = await createPrecheckAnalyzer({ modelsDir: empty }).analyze(await readFile(fixture));
      expect(analysis).toMatchObject({ ready: true, faces_detected: 1, spoof_estimate: null });
      expect(analysis.spoof_model).toMatch(/^unavailable: /);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("a damaged model file: not_configured saying what failed, nothing on stdout, and a later retry is possible", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "precheck-damaged-"));
    const stdout = vi.spyOn(process.stdout, "write");
    try {
      const models = path.resolve(import.meta.dirname, "../../models/minifasnet");
      await writeFile(
        path.join(dir, "MiniFASNetV2.onnx"),
        (await readFile(path.join(models, "MiniFASNetV2.onnx"))).subarray(0, 4096),
      );
      await copyFile(path.join(models, "MiniFASNetV1SE.onnx"), path.join(dir, "MiniFASNetV1SE.onnx"));
      const analyzer = createPrecheckAnalyzer({ modelsDir: dir });
      for (let attempt = 0; attempt < 2; attempt++) {
        const failure = await analyzer.warm().catch((e: unknown) => e);
        expect(failure).toMatchObject({ code: "not_configured" });
        expect((failure as Error).message).toMatch(/failed to start \(.*model/);
      }
      expect(stdout).not.toHaveBeenCalled();
    } finally {
      stdout.mockRestore();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("start-up stays light: the tool imports the engine lazily, and the engine imports its packages lazily", async () => {
    const src = path.resolve(import.meta.dirname, "../../src");
    const staticImports = async (file: string) =>
      [
        ...(await readFile(path.join(src, file), "utf8")).matchAll(
          /^import (type )?[^;]*? from "([^"]+)";$/gms,
        ),
      ].map(([, type, from]) => ({ type: type !== undefined, from: from ?? "" }));
    // The tool module: from the precheck folder, only the result schema and the flow, which are light.
    for (const { type, from } of await staticImports("server/tools/precheck-face-image.ts")) {
      if (from.includes("precheck") && !type)
        expect(["../../flows/precheck.js", "../../precheck/types.js"], from).toContain(from);
    }
    // The flow: the engine's entry point only as a type (it is imported on first use), zod-only types.
    for (const { type, from } of await staticImports("flows/precheck.ts")) {
      if (from.startsWith("../precheck/") && from !== "../precheck/types.js") expect(type, from).toBe(true);
    }
    const typesImports = await staticImports("precheck/types.ts");
    expect(typesImports.map((i) => i.from)).toEqual(["zod"]);
    // The engine's entry point: nothing heavy, nothing that imports an engine package statically.
    const light = [
      "../core/errors.js",
      "./console-guard.js",
      "./loader.js",
      "./queue.js",
      "./types.js",
      "./engine.js",
    ];
    for (const { type, from } of await staticImports("precheck/index.ts")) {
      expect(light, from).toContain(from);
      if (from === "./engine.js") expect(type).toBe(true);
    }
    // No module under src/precheck imports an engine package except as a type.
    for (const file of await readdir(path.join(src, "precheck"))) {
      for (const { type, from } of await staticImports(path.join("precheck", file))) {
        if (Object.values(ENGINE_PACKAGES).some((p) => from === p || from.startsWith(`${p}/`))) {
          expect(type, `${file}: ${from}`).toBe(true);
        }
      }
    }
  });
});
