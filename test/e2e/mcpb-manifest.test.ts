import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLE_FILE, buildManifest, mcpbPackageEntry, PLATFORMS } from "../../scripts/mcpb-manifest.mjs";
import { listDefinitions } from "../../scripts/render-tools-reference.mjs";

// The Claude Desktop bundle's manifest and server.json's mcpb and oci entries, checked without building the bundle
// (`npm run bundle`, ~80 s; mcpb.test.ts starts the built one). Needs dist/ (npm test builds first).

const ROOT = path.resolve(import.meta.dirname, "../..");
const BUNDLE = path.join(ROOT, BUNDLE_FILE);
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
};
const server = JSON.parse(readFileSync(path.join(ROOT, "server.json"), "utf8")) as {
  name: string;
  packages: Record<string, unknown>[];
};
const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");

describe("the MCPB manifest", () => {
  it("lists every tool the live server lists, by name, with a one-sentence description", async () => {
    const manifest = await buildManifest();
    const { tools } = await listDefinitions();
    expect(manifest.tools.map((tool) => tool.name)).toEqual(tools.map((tool) => tool.name));
    expect(manifest.tools).toHaveLength(5);
    for (const tool of manifest.tools) {
      expect(tool.description.length, tool.name).toBeGreaterThan(20);
      expect(tool.description, tool.name).toMatch(/[.!?]$/);
    }
  });

  it("claims the three desktop platforms, which the WebAssembly sharp it carries makes true for the pre-check too", async () => {
    const manifest = await buildManifest();
    expect(manifest.compatibility.platforms).toEqual(PLATFORMS);
    expect([...PLATFORMS].sort()).toEqual(["darwin", "linux", "win32"]);
    expect(readFileSync(path.join(ROOT, "scripts", "build-mcpb.mjs"), "utf8")).toContain(
      "@img/sharp-wasm32@",
    );
  });
});

describe("server.json's bundle and image entries", () => {
  const mcpb = server.packages.find((p) => p.registryType === "mcpb");
  const oci = server.packages.find((p) => p.registryType === "oci");

  it("the mcpb entry is the release asset of this version, with a SHA-256; equal to the built bundle's when it exists", () => {
    expect(mcpb).toBeDefined();
    const expected = mcpbPackageEntry(
      pkg.version,
      existsSync(BUNDLE) ? readFileSync(BUNDLE) : new Uint8Array(),
    );
    expect(mcpb).toMatchObject({ ...expected, fileSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(String(mcpb?.identifier)).toContain("mcp");
    if (existsSync(BUNDLE))
      expect(mcpb?.fileSha256, "npm run bundle writes the bundle's hash").toBe(expected.fileSha256);
  });

  it("the oci entry names the image the Dockerfile labels with server.json's name, serving Streamable HTTP", () => {
    expect(oci).toMatchObject({
      registryType: "oci",
      identifier: `ghcr.io/didit-community/${pkg.name}:${pkg.version}`,
      transport: { type: "streamable-http" },
    });
    expect(dockerfile).toContain(`LABEL io.modelcontextprotocol.server.name="${server.name}"`);
  });
});
