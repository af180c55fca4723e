import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { installKind } from "../../src/core/install-kind.js";
import { engineSpecs, howToInstall, installCommand, npxCommand } from "../../src/precheck/loader.js";

// Where a copy of the package sits decides which pre-check install command works for it (issue 20): `npm i` beside
// a global command or inside npx's cache installs nothing the server can load. The global form is also run for
// real in pack-fresh-clone.test.ts.

const NAME = "didit-passive-liveness-mcp";
const base = mkdtempSync(path.join(tmpdir(), "didit-install-kind-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function packageAt(...parts: string[]): string {
  const root = path.join(base, ...parts);
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, "package.json"), JSON.stringify({ name: NAME }));
  return root;
}

describe("installKind and the pre-check install hint", () => {
  it("a git clone: npm ci in the clone (its dev dependencies are the engine)", () => {
    const root = packageAt("clone");
    writeFileSync(path.join(root, ".git"), "gitdir: elsewhere\n");
    const kind = installKind(root);
    expect(kind).toEqual({ kind: "clone", root });
    expect(howToInstall(kind)).toContain(`run \`npm ci\` in ${root}`);
  });

  it.skipIf(process.platform === "win32")(
    "a global install (<prefix>/lib/node_modules): npm i -g --prefix <prefix> with the pinned engine",
    () => {
      const prefix = path.join(base, "global prefix");
      const root = packageAt("global prefix", "lib", "node_modules", NAME);
      const kind = installKind(root);
      expect(kind).toEqual({ kind: "global", root, prefix });
      expect(howToInstall(kind)).toContain(`\`npm i -g --prefix "${prefix}" ${engineSpecs().join(" ")}\``);
    },
  );

  it("a project's node_modules: npm i in that project", () => {
    const root = packageAt("project", "node_modules", NAME);
    const kind = installKind(root);
    expect(kind).toEqual({ kind: "local", root, project: path.join(base, "project") });
    expect(howToInstall(kind)).toContain(`in ${path.join(base, "project")}, run \`${installCommand()}\``);
  });

  it("npx's cache: the npx form that brings the engine, no npm i", () => {
    const root = packageAt("cache", "_npx", "0123abcd", "node_modules", NAME);
    const kind = installKind(root);
    expect(kind.kind).toBe("npx");
    expect(howToInstall(kind)).toContain(npxCommand());
    expect(howToInstall(kind)).not.toContain("npm i ");
  });

  it("the Claude Desktop bundle (manifest.json beside package.json): reinstall the extension", () => {
    const root = packageAt("Claude Extensions", "local.mcpb.didit");
    writeFileSync(path.join(root, "manifest.json"), "{}");
    const kind = installKind(root);
    expect(kind).toEqual({ kind: "mcpb", root });
    expect(howToInstall(kind)).toMatch(/Claude Desktop/);
    expect(howToInstall(kind)).not.toContain("npm i ");
  });

  it("this checkout is a clone, so its own hint says npm ci", () => {
    expect(installKind().kind).toBe("clone");
    expect(howToInstall()).toContain("`npm ci`");
    // The pinned command stays in it, as the tool tests expect.
    expect(howToInstall()).toContain(installCommand());
  });
});
