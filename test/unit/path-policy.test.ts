import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ToolFailure } from "../../src/core/errors.js";
import { describeAllowedDirs, isInside, resolveAllowedPath } from "../../src/images/path-policy.js";
import { rejectionOf } from "../support/expectations.js";

let root: string;
let selfies: string;
let selfies2: string;
let other: string;
let outside: string;

beforeAll(async () => {
  // realpath: allowed dirs are always real paths (config resolves them), and tmpdir may be a symlink.
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "path-policy-")));
  selfies = path.join(root, "selfies");
  selfies2 = path.join(root, "selfies2");
  other = path.join(root, "other-allowed");
  outside = path.join(root, "outside");
  for (const dir of [
    selfies,
    selfies2,
    other,
    outside,
    path.join(selfies, "sub"),
    path.join(selfies, "home"),
  ]) {
    await fs.mkdir(dir, { recursive: true });
  }
  await fs.writeFile(path.join(selfies, "me.jpg"), "inside");
  await fs.writeFile(path.join(selfies, "sub", "deep.jpg"), "deep");
  await fs.writeFile(path.join(selfies, "home", "home.jpg"), "home");
  await fs.writeFile(path.join(selfies2, "x.jpg"), "sibling");
  await fs.writeFile(path.join(other, "o.jpg"), "other");
  await fs.writeFile(path.join(outside, "secret.jpg"), "secret");

  // Symlinks inside the allowed dir.
  await fs.symlink(path.join(outside, "secret.jpg"), path.join(selfies, "to-secret.jpg"));
  await fs.symlink(outside, path.join(selfies, "to-outside-dir"));
  await fs.symlink(path.join(selfies2, "x.jpg"), path.join(selfies, "to-sibling.jpg"));
  // chain-a -> chain-b -> chain-c -> outside/secret.jpg
  await fs.symlink(path.join(outside, "secret.jpg"), path.join(selfies, "chain-c"));
  await fs.symlink("chain-c", path.join(selfies, "chain-b"));
  await fs.symlink(path.join(selfies, "chain-b"), path.join(selfies, "chain-a"));
  // good-a -> sub/good-b -> ../me.jpg (relative links, all inside)
  await fs.symlink("../me.jpg", path.join(selfies, "sub", "good-b"));
  await fs.symlink("sub/good-b", path.join(selfies, "good-a"));
  // A link into the second allowed directory.
  await fs.symlink(path.join(other, "o.jpg"), path.join(selfies, "to-other.jpg"));
  // loop-1 -> loop-2 -> loop-1
  await fs.symlink("loop-2", path.join(selfies, "loop-1"));
  await fs.symlink("loop-1", path.join(selfies, "loop-2"));
  // A symlink loop outside.
  await fs.symlink("loop-y", path.join(outside, "loop-x"));
  await fs.symlink("loop-x", path.join(outside, "loop-y"));
  // A dangling link whose missing target is outside.
  await fs.symlink(path.join(outside, "missing.jpg"), path.join(selfies, "dangling-out.jpg"));
  // Links from inside to an outside loop, to a path under an outside regular file, to an outside dangling link.
  await fs.symlink(path.join(outside, "loop-x"), path.join(selfies, "to-outside-loop"));
  await fs.symlink(path.join(outside, "secret.jpg", "x"), path.join(selfies, "under-outside-file"));
  await fs.symlink(path.join(outside, "missing.jpg"), path.join(outside, "dangling.jpg"));
  await fs.symlink(path.join(outside, "dangling.jpg"), path.join(selfies, "to-outside-dangling"));
  // Outside: a symlink to an outside file, next to nothing.
  await fs.symlink(path.join(outside, "secret.jpg"), path.join(outside, "link-to-secret.jpg"));
  // Inside -> outside link -> back inside to a missing file: the outside hop must not be revealed.
  await fs.symlink(path.join(selfies, "nope.jpg"), path.join(outside, "back-in"));
  await fs.symlink(path.join(outside, "back-in"), path.join(selfies, "via-outside"));
  // A dangling link whose missing target is inside.
  await fs.symlink("nope.jpg", path.join(selfies, "dangling-in.jpg"));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe("isInside", () => {
  it.each([
    ["/a/b", "/a/b", true],
    ["/a/b", "/a/b/", true],
    ["/a/b", "/a/b/c", true],
    ["/a/b", "/a/b/c/d.jpg", true],
    ["/a/b", "/a/b/..c", true],
    ["/a/b", "/a/b/c/../d", true],
    ["/", "/etc/passwd", true],
    ["/a/b", "/a/bc", false],
    ["/a/b", "/a/b2/x.jpg", false],
    ["/a/b", "/a", false],
    ["/a/b", "/", false],
    ["/a/b", "/a/b/../c", false],
    ["/a/b", "/a/b/../../etc/passwd", false],
    ["/a/b", "/x/a/b", false],
  ])("isInside(%s, %s) is %s", (dir, candidate, expected) => {
    expect(isInside(dir, candidate)).toBe(expected);
  });
});

describe("resolveAllowedPath: allowed", () => {
  it("returns the real path of a file given by absolute path", async () => {
    expect(await resolveAllowedPath(path.join(selfies, "me.jpg"), [selfies])).toBe(
      path.join(selfies, "me.jpg"),
    );
  });

  it("resolves a relative path against the FIRST allowed dir", async () => {
    expect(await resolveAllowedPath("me.jpg", [selfies, other])).toBe(path.join(selfies, "me.jpg"));
    expect(await resolveAllowedPath("sub/deep.jpg", [selfies, other])).toBe(
      path.join(selfies, "sub", "deep.jpg"),
    );
    expect(await resolveAllowedPath("o.jpg", [other, selfies])).toBe(path.join(other, "o.jpg"));
    const f = await rejectionOf(resolveAllowedPath("o.jpg", [selfies, other]));
    expect(f.code).toBe("file_not_found");
    expect(f.hint).toContain(selfies);
  });

  it("accepts an absolute path into any allowed dir", async () => {
    expect(await resolveAllowedPath(path.join(other, "o.jpg"), [selfies, other])).toBe(
      path.join(other, "o.jpg"),
    );
  });

  it("normalises harmless .. segments that stay inside", async () => {
    expect(await resolveAllowedPath("sub/../me.jpg", [selfies])).toBe(path.join(selfies, "me.jpg"));
    expect(await resolveAllowedPath(`${selfies}/sub/../sub/./deep.jpg`, [selfies])).toBe(
      path.join(selfies, "sub", "deep.jpg"),
    );
  });

  it("follows a chain of symlinks that ends inside and returns the real target", async () => {
    expect(await resolveAllowedPath("good-a", [selfies])).toBe(path.join(selfies, "me.jpg"));
  });

  it("follows a symlink into another allowed dir", async () => {
    expect(await resolveAllowedPath("to-other.jpg", [selfies, other])).toBe(path.join(other, "o.jpg"));
  });
});

describe("resolveAllowedPath: escapes are refused", () => {
  it("refuses a prefix sibling (selfies2 is not inside selfies)", async () => {
    const f = await rejectionOf(resolveAllowedPath(path.join(selfies2, "x.jpg"), [selfies]));
    expect(f.code).toBe("path_not_allowed");
  });

  it.each([
    ["an absolute path that climbs to the sibling", () => `${selfies}/../selfies2/x.jpg`],
    ["a relative path that climbs to the sibling", () => "../selfies2/x.jpg"],
    ["a relative path that climbs twice", () => "../../etc/passwd"],
    ["a relative path that climbs to /etc/passwd", () => `${"../".repeat(30)}etc/passwd`],
    ["an absolute path outside", () => "/etc/passwd"],
    ["an absolute path to an existing file outside", () => path.join(outside, "secret.jpg")],
    ["the parent of the allowed dir", () => ".."],
    ["the filesystem root", () => "/"],
  ])("refuses %s with path_not_allowed", async (_what, requested) => {
    const f = await rejectionOf(resolveAllowedPath(requested(), [selfies]));
    expect(f.code).toBe("path_not_allowed");
    expect(f.message).toMatch(/outside the allowed directories/);
  });

  it("refuses a symlink to a file outside", async () => {
    const f = await rejectionOf(resolveAllowedPath("to-secret.jpg", [selfies]));
    expect(f.code).toBe("path_not_allowed");
    expect(f.message).toMatch(/symlink/);
    expect(`${f.message} ${f.hint}`).not.toContain(outside);
  });

  it("refuses a file reached through a symlink to a directory outside", async () => {
    const f = await rejectionOf(resolveAllowedPath("to-outside-dir/secret.jpg", [selfies]));
    expect(f.code).toBe("path_not_allowed");
    expect(f.message).toMatch(/symlink/);
  });

  it("refuses the symlinked directory itself", async () => {
    expect((await rejectionOf(resolveAllowedPath("to-outside-dir", [selfies]))).code).toBe(
      "path_not_allowed",
    );
  });

  it("refuses a symlink to the prefix sibling", async () => {
    expect((await rejectionOf(resolveAllowedPath("to-sibling.jpg", [selfies]))).code).toBe(
      "path_not_allowed",
    );
  });

  it("refuses a chain of symlinks that ends outside", async () => {
    const f = await rejectionOf(resolveAllowedPath("chain-a", [selfies]));
    expect(f.code).toBe("path_not_allowed");
  });

  it("refuses a symlink loop with invalid_input", async () => {
    const f = await rejectionOf(resolveAllowedPath("loop-1", [selfies]));
    expect(f.code).toBe("invalid_input");
    expect(f.message).toMatch(/loop/);
  });
});

describe("resolveAllowedPath: malformed paths", () => {
  it.each([
    ["a NUL byte", "me.jpg\0.png"],
    ["a NUL byte at the start", "\0"],
  ])("refuses %s with invalid_input", async (_what, requested) => {
    const f = await rejectionOf(resolveAllowedPath(requested, [selfies]));
    expect(f.code).toBe("invalid_input");
    expect(f.message).toMatch(/NUL/);
  });

  it.each([
    ["a drive-letter path", "C:\\x.jpg"],
    ["a drive letter with a forward slash", "C:/x.jpg"],
    ["a UNC path", "\\\\server\\share\\x.jpg"],
    ["a relative path with a backslash", "a\\b.jpg"],
    ["a backslash escape attempt", "..\\..\\etc\\passwd"],
  ])("refuses %s on POSIX with invalid_input", async (_what, requested) => {
    const f = await rejectionOf(resolveAllowedPath(requested, [selfies]));
    expect(f.code).toBe("invalid_input");
    expect(f.message).toMatch(/Windows-style/);
  });
});

describe("resolveAllowedPath: missing files", () => {
  it("reports a missing file inside as file_not_found", async () => {
    const f = await rejectionOf(resolveAllowedPath("nope.jpg", [selfies]));
    expect(f.code).toBe("file_not_found");
    expect(f.message).toContain(path.join(selfies, "nope.jpg"));
  });

  it("reports a path under a regular file as file_not_found", async () => {
    expect((await rejectionOf(resolveAllowedPath("me.jpg/x", [selfies]))).code).toBe("file_not_found");
  });

  it("does not reveal that a file outside is missing: same path_not_allowed as an existing one", async () => {
    const missing = await rejectionOf(resolveAllowedPath(path.join(outside, "missing.jpg"), [selfies]));
    const existing = await rejectionOf(resolveAllowedPath(path.join(outside, "secret.jpg"), [selfies]));
    expect(missing.code).toBe("path_not_allowed");
    expect(missing.message).toBe(existing.message);
    expect(missing.hint).toBe(existing.hint);
    expect(`${missing.message} ${missing.hint}`).not.toMatch(/not found|no file|does not exist/i);
  });

  it("does not reveal a missing file under a missing dir outside", async () => {
    const f = await rejectionOf(resolveAllowedPath("/definitely/not/here.jpg", [selfies]));
    expect(f.code).toBe("path_not_allowed");
  });

  it("does not reveal a missing file outside reached through a symlinked directory", async () => {
    const missing = await rejectionOf(resolveAllowedPath("to-outside-dir/missing.jpg", [selfies]));
    const existing = await rejectionOf(resolveAllowedPath("to-outside-dir/secret.jpg", [selfies]));
    expect(existing.code).toBe("path_not_allowed");
    expect(missing.code).toBe("path_not_allowed");
    expect(missing.message).toBe(existing.message);
  });

  it("does not reveal that the outside target of a dangling symlink is missing", async () => {
    const f = await rejectionOf(resolveAllowedPath("dangling-out.jpg", [selfies]));
    expect(f.code).toBe("path_not_allowed");
    expect(`${f.message} ${f.hint}`).not.toContain(outside);
  });

  it("does not reveal a missing file under a missing dir reached through a symlinked directory", async () => {
    const f = await rejectionOf(resolveAllowedPath("to-outside-dir/no-dir/no-file.jpg", [selfies]));
    expect(f.code).toBe("path_not_allowed");
  });

  it("reports a missing file in a missing subdirectory inside as file_not_found", async () => {
    expect((await rejectionOf(resolveAllowedPath("no-dir/deeper/nope.jpg", [selfies]))).code).toBe(
      "file_not_found",
    );
  });

  // Regression: a symlink loop outside answered invalid_input "symlink loop", so files outside could be probed.
  it("does not reveal a symlink loop outside the allowed dirs", async () => {
    const direct = await rejectionOf(resolveAllowedPath(path.join(outside, "loop-x"), [selfies]));
    expect(direct.code).toBe("path_not_allowed");
    const viaLink = await rejectionOf(resolveAllowedPath("to-outside-dir/loop-x", [selfies]));
    expect(viaLink.code).toBe("path_not_allowed");
  });
});

// Issue 9, item 8: no answer may differ by whether something outside exists, is a link, loops or is a file.
describe("resolveAllowedPath: no existence oracle outside", () => {
  async function answer(requested: string) {
    const f = await rejectionOf(resolveAllowedPath(requested, [selfies]));
    return { code: f.code, message: f.message, hint: f.hint };
  }

  it("answers a symlink to a MISSING outside file exactly like one to an EXISTING outside file", async () => {
    const existing = await answer("to-secret.jpg");
    expect(existing.code).toBe("path_not_allowed");
    expect(await answer("dangling-out.jpg")).toEqual(existing);
  });

  it.each([
    ["a symlink to a symlink loop outside", "to-outside-loop"],
    ["a symlink to a path under an outside regular file", "under-outside-file"],
    ["a symlink to a dangling symlink outside", "to-outside-dangling"],
    ["a symlink through an outside link back to a missing file inside", "via-outside"],
    ["a missing file under a symlinked outside directory", "to-outside-dir/missing.jpg"],
    ["a symlink loop under a symlinked outside directory", "to-outside-dir/loop-x"],
  ])("answers %s exactly like a symlink to an existing outside file", async (_what, requested) => {
    expect(await answer(requested)).toEqual(await answer("to-secret.jpg"));
  });

  it.each([
    ["an outside symlink to an existing file", () => path.join(outside, "link-to-secret.jpg")],
    ["an outside dangling symlink", () => path.join(outside, "dangling.jpg")],
    ["a missing outside file", () => path.join(outside, "missing.jpg")],
    ["an outside symlink loop", () => path.join(outside, "loop-x")],
    ["a path under an outside regular file", () => path.join(outside, "secret.jpg", "x")],
    ["an outside directory", () => outside],
  ])("answers %s exactly like an existing outside file", async (_what, requested) => {
    expect(await answer(requested())).toEqual(await answer(path.join(outside, "secret.jpg")));
  });

  it("uses one outside message for plain paths and symlinks alike", async () => {
    expect(await answer("to-secret.jpg")).toEqual(await answer(path.join(outside, "secret.jpg")));
  });

  it("still tells what is wrong inside: a dangling link to a missing inside file is not called outside", async () => {
    const f = await answer("dangling-in.jpg");
    expect(f.message).not.toMatch(/outside/);
    expect(f.message).toMatch(/does not exist/);
  });
});

// Issue 9, item 11: a path is used as given, never silently trimmed or normalised.
describe("resolveAllowedPath: whitespace and trailing slashes are refused", () => {
  it.each([
    ["a leading space", " me.jpg"],
    ["a trailing space", "me.jpg "],
    ["a trailing newline", "me.jpg\n"],
    ["a leading tab", "\tme.jpg"],
    ["a trailing non-breaking space", "me.jpg\u00a0"],
    ["spaces around an absolute path", () => ` ${path.join(selfies, "me.jpg")} `],
  ])("refuses %s with invalid_input naming whitespace", async (_what, requested) => {
    const p = typeof requested === "function" ? requested() : requested;
    const f = await rejectionOf(resolveAllowedPath(p, [selfies]));
    expect(f.code).toBe("invalid_input");
    expect(f.message).toMatch(/whitespace/);
  });

  it.each([
    ["a file with a trailing slash", "me.jpg/"],
    ["a directory with a trailing slash", "sub/"],
    ["an absolute directory with a trailing slash", () => `${selfies}/`],
    ["a file with two trailing slashes", "me.jpg//"],
  ])("refuses %s with invalid_input naming the trailing slash", async (_what, requested) => {
    const p = typeof requested === "function" ? requested() : requested;
    const f = await rejectionOf(resolveAllowedPath(p, [selfies]));
    expect(f.code).toBe("invalid_input");
    expect(f.message).toMatch(/ends with a slash/);
  });

  it("keeps spaces inside a name", async () => {
    await fs.writeFile(path.join(selfies, "my photo.jpg"), "x");
    expect(await resolveAllowedPath("my photo.jpg", [selfies])).toBe(path.join(selfies, "my photo.jpg"));
  });
});

describe("resolveAllowedPath: ~ expansion", () => {
  const savedHome = process.env.HOME;
  afterEach(() => {
    if (savedHome === undefined) delete process.env.HOME;
    else process.env.HOME = savedHome;
  });

  it("expands ~/ to the home directory", async () => {
    process.env.HOME = path.join(selfies, "home");
    expect(os.homedir()).toBe(path.join(selfies, "home"));
    expect(await resolveAllowedPath("~/home.jpg", [selfies])).toBe(path.join(selfies, "home", "home.jpg"));
    expect(await resolveAllowedPath("~", [selfies])).toBe(path.join(selfies, "home"));
  });

  it("refuses ~/ when the home directory is outside", async () => {
    process.env.HOME = outside;
    const f = await rejectionOf(resolveAllowedPath("~/secret.jpg", [selfies]));
    expect(f.code).toBe("path_not_allowed");
  });

  it("does not expand ~ in the middle of a path or ~user", async () => {
    process.env.HOME = outside;
    const f = await rejectionOf(resolveAllowedPath("sub/~/secret.jpg", [selfies]));
    expect(f.code).toBe("file_not_found");
    expect(f.message).toContain(path.join(selfies, "sub", "~", "secret.jpg"));
    const g = await rejectionOf(resolveAllowedPath("~nobody/secret.jpg", [selfies]));
    expect(g.code).toBe("file_not_found");
    expect(g.message).toContain(path.join(selfies, "~nobody", "secret.jpg"));
  });
});

describe("resolveAllowedPath: configuration in errors", () => {
  it("refuses every path when no dirs are configured, saying how to configure", async () => {
    for (const requested of ["me.jpg", path.join(selfies, "me.jpg"), "/etc/passwd"]) {
      const f = await rejectionOf(resolveAllowedPath(requested, []));
      expect(f.code).toBe("path_not_allowed");
      expect(f.message).toMatch(/no allowed directories/);
      expect(f.hint).toContain("--allow-dir");
      expect(f.hint).toContain("DIDIT_ALLOWED_DIRS");
      expect(f.hint).toContain("image_base64");
    }
  });

  it("lists every allowed dir in the hint of a refusal", async () => {
    for (const requested of ["/etc/passwd", "to-secret.jpg", "a\\b.jpg", "x\0"]) {
      const f = await rejectionOf(resolveAllowedPath(requested, [selfies, other]));
      expect(f.hint).toContain(selfies);
      expect(f.hint).toContain(other);
    }
  });

  it("lists every allowed dir in the hint of file_not_found", async () => {
    const f = await rejectionOf(resolveAllowedPath("nope.jpg", [selfies, other]));
    expect(f.hint).toContain(`${selfies}, ${other}`);
  });

  it("describeAllowedDirs says when none are configured", () => {
    expect(describeAllowedDirs([])).toBe("none configured");
    expect(describeAllowedDirs(["/a", "/b"])).toBe("/a, /b");
  });
});

describe("resolveAllowedPath: property", () => {
  it("for any requested string, resolves inside an allowed dir or throws a ToolFailure", async () => {
    const allowed = [selfies, other];
    const segment = fc.constantFrom(
      "..",
      ".",
      "",
      "selfies",
      "selfies2",
      "x.jpg",
      "me.jpg",
      "sub",
      "deep.jpg",
      "to-outside-dir",
      "to-secret.jpg",
      "chain-a",
      "good-a",
      "loop-1",
      "outside",
      "secret.jpg",
      "dangling-out.jpg",
      "~",
      "etc",
      "passwd",
      "\\",
      "C:",
      "\0",
      " ",
    );
    const pathLike = fc
      .tuple(fc.constantFrom("", "/", `${root}/`, `${selfies}/`, "~/"), fc.array(segment, { maxLength: 8 }))
      .map(([prefix, parts]) => prefix + parts.join("/"));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(pathLike, fc.string({ maxLength: 80 }), fc.string({ unit: "binary" })),
        async (p) => {
          let resolved: string;
          try {
            resolved = await resolveAllowedPath(p, allowed);
          } catch (error) {
            expect(error).toBeInstanceOf(ToolFailure);
            expect(["path_not_allowed", "invalid_input", "file_not_found"]).toContain(
              (error as ToolFailure).code,
            );
            return;
          }
          expect(path.isAbsolute(resolved)).toBe(true);
          expect(allowed.some((dir) => isInside(dir, resolved))).toBe(true);
          expect(await fs.realpath(resolved)).toBe(resolved);
        },
      ),
      { numRuns: 200 },
    );
  });
});
