import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { documentedForm, expectTheFiveTools, startAsHost } from "../support/install-forms.js";
import { npxHostEnv, type Packed, packProject, removeNpxInstalls } from "../support/packed.js";

// The README's "Packed tarball" form, exactly as documented: npx installs the tarball (from npm's cache, offline)
// and starts it as a host would. A second, cold install (~10 s), so it runs in the full set (`npm run test:all`).

const INSTALL_TIMEOUT_MS = 120_000;

let packed: Packed;
let hostDir: string;

beforeAll(() => {
  packed = packProject(INSTALL_TIMEOUT_MS);
  hostDir = mkdtempSync(path.join(tmpdir(), "didit-host-"));
}, INSTALL_TIMEOUT_MS);

afterAll(() => {
  if (packed && hostDir) removeNpxInstalls(packed.tarball, hostDir, INSTALL_TIMEOUT_MS);
  for (const dir of [packed && path.dirname(packed.tarball), hostDir]) {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}, INSTALL_TIMEOUT_MS);

it("packed tarball: npx -y --package /abs/path/<tgz> answers tools/list (installs from npm's cache)", {
  timeout: INSTALL_TIMEOUT_MS,
}, async () => {
  const argv = documentedForm("Packed tarball").map((word) => {
    if (!word.endsWith(".tgz")) return word;
    expect(path.basename(word), "the README names the tarball npm pack writes").toBe(
      path.basename(packed.tarball),
    );
    return packed.tarball;
  });
  expect(argv).toContain(packed.tarball);
  await expectTheFiveTools(await startAsHost(argv, npxHostEnv(), hostDir, INSTALL_TIMEOUT_MS));
});
