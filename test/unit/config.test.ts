import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_BASE_URL, loadConfig, parseServerArgs } from "../../src/config/config.js";
import { ToolFailure } from "../../src/core/errors.js";
import { createCheckBudget } from "../../src/core/rate-guard.js";
import { createRedactor, REDACTED } from "../../src/core/redact.js";

let root: string;
let dirA: string;
let dirB: string;
let linkToA: string;
let aFile: string;

const NO_ARGS = parseServerArgs([]);

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "expected a ConfigError to be thrown").toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

beforeAll(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "config-")));
  dirA = path.join(root, "a");
  dirB = path.join(root, "b");
  await fs.mkdir(dirA);
  await fs.mkdir(dirB);
  linkToA = path.join(root, "link-to-a");
  await fs.symlink(dirA, linkToA);
  aFile = path.join(root, "file.txt");
  await fs.writeFile(aFile, "x");
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe("parseServerArgs", () => {
  it("defaults to no dirs, no help, no version", () => {
    expect(parseServerArgs([])).toEqual({
      allowDirs: [],
      sandbox: false,
      allowHardlinks: false,
      allowUrlHosts: [],
      http: false,
      host: undefined,
      port: undefined,
      allowedHosts: [],
      allowedOrigins: [],
      tools: undefined,
      help: false,
      version: false,
    });
  });

  it("takes --sandbox, and DIDIT_SANDBOX turns it on too, but never implicitly", async () => {
    expect(parseServerArgs(["--sandbox"]).sandbox).toBe(true);
    expect((await loadConfig({ allowDirs: [], sandbox: true }, {})).sandbox).toBe(true);
    expect((await loadConfig({ allowDirs: [], sandbox: false }, { DIDIT_SANDBOX: "1" })).sandbox).toBe(true);
    expect((await loadConfig({ allowDirs: [], sandbox: false }, {})).sandbox).toBe(false);
    await expect(loadConfig({ allowDirs: [], sandbox: false }, { DIDIT_SANDBOX: "maybe" })).rejects.toThrow();
  });

  it("accepts --allow-dir repeatedly, in order, in both spellings", () => {
    expect(parseServerArgs(["--allow-dir", "/x", "--allow-dir=/y", "--allow-dir", "/z"]).allowDirs).toEqual([
      "/x",
      "/y",
      "/z",
    ]);
  });

  it("accepts --help/-h and --version/-v", () => {
    expect(parseServerArgs(["--help"]).help).toBe(true);
    expect(parseServerArgs(["-h"]).help).toBe(true);
    expect(parseServerArgs(["--version"]).version).toBe(true);
    expect(parseServerArgs(["-v"]).version).toBe(true);
  });

  it.each([
    ["an unknown flag", ["--allow-dirs", "/x"]],
    ["a typo'd flag", ["--alow-dir=/x"]],
    ["a positional argument", ["/x"]],
    ["--allow-dir without a value", ["--allow-dir"]],
    ["a value given to a boolean flag", ["--help=yes"]],
  ])("refuses %s with ConfigError", (_what, argv) => {
    expect(() => parseServerArgs(argv)).toThrow(ConfigError);
  });
});

describe("loadConfig", () => {
  it("has the documented defaults", async () => {
    const config = await loadConfig(NO_ARGS, {});
    expect(config).toEqual({
      apiKey: undefined,
      baseUrl: "https://verification.didit.me",
      timeoutMs: 30_000,
      allowedDirs: [],
      maxChecksPerMinute: 30,
      confirmUploads: false,
      sandbox: false,
      allowHardlinks: false,
      allowedUrlHosts: [],
      urlAllowOnly: false,
      viewThumbnails: true,
    });
    expect(DEFAULT_BASE_URL).toBe("https://verification.didit.me");
  });

  it("reads the URL allow-list from repeated --allow-url-host and DIDIT_ALLOWED_URL_HOSTS, comma-separated", async () => {
    const args = parseServerArgs([
      "--allow-url-host",
      "127.0.0.1",
      "--allow-url-host",
      "images.test, 10.0.0.0/8",
    ]);
    const config = await loadConfig(args, {
      DIDIT_ALLOWED_URL_HOSTS: "cdn.example.com,[fd00::1],fd00::/8,",
      DIDIT_URL_ALLOW_ONLY: "true",
    });
    expect(config.allowedUrlHosts).toEqual([
      "127.0.0.1",
      "images.test",
      "10.0.0.0/8",
      "cdn.example.com",
      "[fd00::1]",
      "fd00::/8",
    ]);
    expect(config.urlAllowOnly).toBe(true);
  });

  it.each([
    "10.0.0.0/33",
    "http://images.test",
    "images.test/path",
    "bad host",
    "*.example.com",
    "fd00::/129",
  ])("refuses the URL allow-list entry %s at start-up", async (entry) => {
    await expect(loadConfig(NO_ARGS, { DIDIT_ALLOWED_URL_HOSTS: entry })).rejects.toThrow(
      /DIDIT_ALLOWED_URL_HOSTS: .* is not/,
    );
  });

  it("ignores unrelated environment variables", async () => {
    const config = await loadConfig(NO_ARGS, { PATH: "/bin", HOME: "/nowhere", DIDIT_UNKNOWN: "x" });
    expect(config.baseUrl).toBe(DEFAULT_BASE_URL);
  });

  it("reads and trims DIDIT_API_KEY", async () => {
    expect((await loadConfig(NO_ARGS, { DIDIT_API_KEY: "  key-123  " })).apiKey).toBe("key-123");
  });

  it.each(["", "   ", "\n"])("treats DIDIT_API_KEY=%j as unset", async (value) => {
    expect((await loadConfig(NO_ARGS, { DIDIT_API_KEY: value })).apiKey).toBeUndefined();
  });

  it.each([
    ["https://example.test/", "https://example.test"],
    ["https://example.test///", "https://example.test"],
    ["http://127.0.0.1:8080/", "http://127.0.0.1:8080"],
    ["https://verification.didit.me", "https://verification.didit.me"],
  ])("strips trailing slashes from DIDIT_BASE_URL %s", async (value, expected) => {
    expect((await loadConfig(NO_ARGS, { DIDIT_BASE_URL: value })).baseUrl).toBe(expected);
  });

  it.each([
    "ftp://example.test",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "verification.didit.me",
    "not a url",
    "",
  ])("refuses DIDIT_BASE_URL=%j with ConfigError naming the variable", async (value) => {
    const e = await configErrorOf(loadConfig(NO_ARGS, { DIDIT_BASE_URL: value }));
    expect(e.message).toContain("DIDIT_BASE_URL");
  });

  it.each([
    ["https://proxy.example/didit", "https://proxy.example/didit"],
    ["https://proxy.example/didit/", "https://proxy.example/didit"],
    ["https://proxy.example:8443/a/b//", "https://proxy.example:8443/a/b"],
    ["http://localhost:3000", "http://localhost:3000"],
    ["http://LOCALHOST:3000/", "http://localhost:3000"],
    ["http://127.5.6.7:80/x", "http://127.5.6.7/x"],
    ["http://[::1]:8080", "http://[::1]:8080"],
  ])("accepts DIDIT_BASE_URL %s as %s (a path prefix is kept)", async (value, expected) => {
    expect((await loadConfig(NO_ARGS, { DIDIT_BASE_URL: value })).baseUrl).toBe(expected);
  });

  // Plain http would send the API key and the face in clear text over any network but the loopback one.
  it.each([
    "http://verification.didit.me",
    "http://example.test:8080/didit",
    "http://10.0.0.1",
    "http://192.168.1.10:8080",
    "http://[::ffff:127.0.0.1]",
    "http://[fe80::1]",
    "http://localhost.example.test",
    "http://127.0.0.1.example.test",
  ])("refuses plain http to a non-loopback host (%s)", async (value) => {
    const e = await configErrorOf(loadConfig(NO_ARGS, { DIDIT_BASE_URL: value }));
    expect(e.message).toContain("DIDIT_BASE_URL");
    expect(e.message).toMatch(/https/);
  });

  it.each([
    ["a query", "https://proxy.example/didit?token=s3cr3t-t0ken"],
    ["a fragment", "https://proxy.example/#s3cr3t-t0ken"],
    ["credentials", "https://user:s3cr3t-t0ken@proxy.example"],
    ["the endpoint path itself", "https://verification.didit.me/v3/passive-liveness/"],
    ["the face-match endpoint path", "https://verification.didit.me/v3/face-match"],
    ["a query and credentials, oddly spelled", "https://user:s3cr3t-t0ken@proxy.example/didit/?"],
  ])("refuses a DIDIT_BASE_URL with %s, without echoing it", async (_what, value) => {
    const e = await configErrorOf(loadConfig(NO_ARGS, { DIDIT_BASE_URL: value }));
    expect(e.message).toContain("DIDIT_BASE_URL");
    expect(e.message).not.toContain("s3cr3t");
  });

  // undici refuses such a header value locally, which used to surface as a billed-sounding network_error per check.
  it.each([
    ["a newline", "sk_live_abcdef\n0123456789"],
    ["a carriage return and an injected header", "sk_live_abcdef0123456789\r\nx-evil: 1"],
    ["a NUL byte", "sk_live_abcdef\u00000123456789"],
    ["a tab", "sk_live_abcdef\t0123456789"],
    ["DEL", "sk_live_abcdef\u007f0123456789"],
    ["a space", "sk_live_abcdef 0123456789"],
    ["a non-ASCII letter", "sk_live_abcdéf0123456789"],
  ])("refuses a DIDIT_API_KEY with %s, never quoting the key", async (_what, value) => {
    const e = await configErrorOf(loadConfig(NO_ARGS, { DIDIT_API_KEY: value }));
    expect(e.message).toContain("DIDIT_API_KEY");
    for (const fragment of ["sk_live", "abcdef", "0123456789", "x-evil"])
      expect(e.message).not.toContain(fragment);
  });

  it("accepts a key of printable ASCII, trimming surrounding whitespace", async () => {
    const key = "Ab0-_.~+/=!#$%&*?@^|:;,<>[]{}()'\"`\\";
    expect((await loadConfig(NO_ARGS, { DIDIT_API_KEY: `\n ${key}\t` })).apiKey).toBe(key);
  });

  it("reads DIDIT_TIMEOUT_MS", async () => {
    expect((await loadConfig(NO_ARGS, { DIDIT_TIMEOUT_MS: "45000" })).timeoutMs).toBe(45_000);
    expect((await loadConfig(NO_ARGS, { DIDIT_TIMEOUT_MS: "1000" })).timeoutMs).toBe(1000);
  });

  it.each(["abc", "10", "0", "-5", "1500.5", "300001"])(
    "refuses DIDIT_TIMEOUT_MS=%j with ConfigError",
    async (value) => {
      const e = await configErrorOf(loadConfig(NO_ARGS, { DIDIT_TIMEOUT_MS: value }));
      expect(e.message).toContain("DIDIT_TIMEOUT_MS");
    },
  );

  it("reads DIDIT_MAX_CHECKS_PER_MINUTE and refuses nonsense", async () => {
    expect((await loadConfig(NO_ARGS, { DIDIT_MAX_CHECKS_PER_MINUTE: "5" })).maxChecksPerMinute).toBe(5);
    for (const value of ["0", "abc", "2.5"]) {
      await configErrorOf(loadConfig(NO_ARGS, { DIDIT_MAX_CHECKS_PER_MINUTE: value }));
    }
  });

  it("reads DIDIT_CONFIRM_UPLOADS", async () => {
    expect((await loadConfig(NO_ARGS, { DIDIT_CONFIRM_UPLOADS: "true" })).confirmUploads).toBe(true);
    expect((await loadConfig(NO_ARGS, { DIDIT_CONFIRM_UPLOADS: "0" })).confirmUploads).toBe(false);
    await configErrorOf(loadConfig(NO_ARGS, { DIDIT_CONFIRM_UPLOADS: "maybe" }));
  });

  // Each used to fail with zod's bare 'Invalid option: expected one of "0"|"1"|...', naming no variable.
  it.each([
    ["DIDIT_SANDBOX", "sandbox"],
    ["DIDIT_CONFIRM_UPLOADS", "confirmUploads"],
    ["DIDIT_ALLOW_HARDLINKS", "allowHardlinks"],
    ["DIDIT_URL_ALLOW_ONLY", "urlAllowOnly"],
  ] as const)(
    "%s takes true/false, 1/0, yes/no or empty, and names itself and those values otherwise",
    async (name, field) => {
      for (const [value, expected] of [
        ["true", true],
        ["1", true],
        ["yes", true],
        ["false", false],
        ["0", false],
        ["no", false],
        ["", false],
      ] as const) {
        expect((await loadConfig(NO_ARGS, { [name]: value }))[field], `${name}=${value}`).toBe(expected);
      }
      for (const value of ["maybe", "TRUE", "2", " on"]) {
        const error = await configErrorOf(loadConfig(NO_ARGS, { [name]: value }));
        expect(error.message).toBe(`${name} must be true or false (also 1/0, yes/no; empty means false)`);
      }
    },
  );

  it("names every bad boolean variable at once", async () => {
    const error = await configErrorOf(
      loadConfig(NO_ARGS, { DIDIT_SANDBOX: "maybe", DIDIT_URL_ALLOW_ONLY: "x" }),
    );
    expect(error.message).toContain("DIDIT_SANDBOX must be true or false");
    expect(error.message).toContain("DIDIT_URL_ALLOW_ONLY must be true or false");
  });

  it("reads DIDIT_TOOLS and --tools: names or free, in the server's order; the flag replaces the variable", async () => {
    expect((await loadConfig(NO_ARGS, {})).tools).toBeUndefined();
    expect((await loadConfig(NO_ARGS, { DIDIT_TOOLS: "" })).tools).toBeUndefined();
    expect((await loadConfig(NO_ARGS, { DIDIT_TOOLS: "free" })).tools).toEqual([
      "explain_warning",
      "precheck_face_image",
    ]);
    expect((await loadConfig(NO_ARGS, { DIDIT_TOOLS: " verify_selfie , free" })).tools).toEqual([
      "explain_warning",
      "precheck_face_image",
      "verify_selfie",
    ]);
    const flagged = parseServerArgs(["--tools", "match_faces", "--tools", "explain_warning"]);
    expect(flagged.tools).toEqual(["match_faces", "explain_warning"]);
    expect((await loadConfig(flagged, { DIDIT_TOOLS: "free" })).tools).toEqual([
      "explain_warning",
      "match_faces",
    ]);
  });

  it("refuses an unknown tool name, or an empty --tools, naming the valid ones", async () => {
    const valid =
      "check_passive_liveness, explain_warning, precheck_face_image, match_faces, verify_selfie, or free (explain_warning, precheck_face_image)";
    const unknown = await configErrorOf(loadConfig(NO_ARGS, { DIDIT_TOOLS: "free,check_liveness" }));
    expect(unknown.message).toBe(`DIDIT_TOOLS names an unknown tool, "check_liveness"; valid: ${valid}.`);
    const empty = await configErrorOf(loadConfig(parseServerArgs(["--tools", " , "]), {}));
    expect(empty.message).toBe(`--tools names no tool; valid: ${valid}.`);
  });

  it("reads --allow-hardlinks and DIDIT_ALLOW_HARDLINKS, off unless given", async () => {
    expect(parseServerArgs(["--allow-hardlinks"]).allowHardlinks).toBe(true);
    expect((await loadConfig(parseServerArgs(["--allow-hardlinks"]), {})).allowHardlinks).toBe(true);
    expect((await loadConfig(NO_ARGS, { DIDIT_ALLOW_HARDLINKS: "true" })).allowHardlinks).toBe(true);
    expect((await loadConfig(NO_ARGS, { DIDIT_ALLOW_HARDLINKS: "no" })).allowHardlinks).toBe(false);
    expect((await loadConfig(NO_ARGS, {})).allowHardlinks).toBe(false);
    await configErrorOf(loadConfig(NO_ARGS, { DIDIT_ALLOW_HARDLINKS: "sometimes" }));
  });

  it("combines --allow-dir (first) and DIDIT_ALLOWED_DIRS split on path.delimiter", async () => {
    const config = await loadConfig(parseServerArgs(["--allow-dir", dirB]), {
      DIDIT_ALLOWED_DIRS: [dirA, "", "  "].join(path.delimiter),
    });
    expect(config.allowedDirs).toEqual([dirB, dirA]);
  });

  it("resolves allowed dirs to their real paths", async () => {
    const config = await loadConfig(parseServerArgs(["--allow-dir", linkToA]), {});
    expect(config.allowedDirs).toEqual([dirA]);
    expect(config.allowedDirs).not.toContain(linkToA);
  });

  it("resolves relative and dotted allowed dirs to absolute real paths", async () => {
    const config = await loadConfig(parseServerArgs(["--allow-dir", `${dirB}/../a/.`]), {});
    expect(config.allowedDirs).toEqual([dirA]);
  });

  it("deduplicates dirs that resolve to the same real path, keeping first order", async () => {
    const config = await loadConfig(
      parseServerArgs(["--allow-dir", linkToA, "--allow-dir", dirB, "--allow-dir", dirA]),
      {
        DIDIT_ALLOWED_DIRS: [dirB, `${dirA}/`, linkToA].join(path.delimiter),
      },
    );
    expect(config.allowedDirs).toEqual([dirA, dirB]);
  });

  it("refuses a missing allowed dir with ConfigError naming it", async () => {
    const missing = path.join(root, "missing");
    const e = await configErrorOf(loadConfig(parseServerArgs(["--allow-dir", missing]), {}));
    expect(e.message).toContain(missing);
    const e2 = await configErrorOf(
      loadConfig(NO_ARGS, { DIDIT_ALLOWED_DIRS: [dirA, missing].join(path.delimiter) }),
    );
    expect(e2.message).toContain(missing);
  });

  it("refuses an allowed dir that is a file with ConfigError", async () => {
    const e = await configErrorOf(loadConfig(parseServerArgs(["--allow-dir", aFile]), {}));
    expect(e.message).toMatch(/not a directory/);
  });

  it("refuses an allowed dir with a NUL byte", async () => {
    await configErrorOf(loadConfig(parseServerArgs(["--allow-dir", `${dirA}\0`]), {}));
  });

  it("returns a frozen config with a frozen dir list", async () => {
    const config = await loadConfig(parseServerArgs(["--allow-dir", dirA]), { DIDIT_API_KEY: "k-1234" });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.allowedDirs)).toBe(true);
    expect(() => {
      (config as { baseUrl: string }).baseUrl = "https://evil.test";
    }).toThrow(TypeError);
    expect(() => (config.allowedDirs as string[]).push("/")).toThrow(TypeError);
    expect(config.baseUrl).toBe(DEFAULT_BASE_URL);
    expect(config.allowedDirs).toEqual([dirA]);
  });
});

describe("createCheckBudget", () => {
  it("allows perMinute checks in a sliding minute, then refuses with rate_limited", () => {
    let t = 1_000_000;
    const reserve = createCheckBudget(2, () => t);
    reserve();
    t += 1000;
    reserve();
    t += 1000;
    let thrown: unknown;
    try {
      reserve();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ToolFailure);
    const f = thrown as ToolFailure;
    expect(f.code).toBe("rate_limited");
    // The oldest check (at t0) leaves the window at t0 + 60 s; now is t0 + 2 s.
    expect(f.retryAfterSeconds).toBe(58);
    expect(f.message).toContain("DIDIT_MAX_CHECKS_PER_MINUTE");
    expect(f.message).toMatch(/no request was sent/);
    expect(f.hint).toContain("Wait 58 s");
  });

  it("does not count a refused check against the budget, and frees slots as the window slides", () => {
    let t = 0;
    const reserve = createCheckBudget(2, () => t);
    reserve(); // t=0
    t = 1000;
    reserve(); // t=1000
    t = 30_000;
    expect(() => reserve()).toThrow(ToolFailure);
    expect(() => reserve()).toThrow(ToolFailure);
    t = 59_999;
    expect(() => reserve()).toThrow(ToolFailure);
    t = 60_000; // the first check leaves the window
    expect(() => reserve()).not.toThrow();
    expect(() => reserve()).toThrow(ToolFailure);
    t = 61_000; // the second check leaves the window
    expect(() => reserve()).not.toThrow();
    t = 61_500;
    let thrown: ToolFailure | undefined;
    try {
      reserve();
    } catch (error) {
      thrown = error as ToolFailure;
    }
    expect(thrown?.retryAfterSeconds).toBe(59); // oldest is at 60 000, leaves at 120 000
  });

  it("never asks to wait less than 1 s", () => {
    let t = 0;
    const reserve = createCheckBudget(1, () => t);
    reserve();
    t = 59_999.5;
    let thrown: ToolFailure | undefined;
    try {
      reserve();
    } catch (error) {
      thrown = error as ToolFailure;
    }
    expect(thrown?.retryAfterSeconds).toBe(1);
  });

  it("keeps separate budgets separate", () => {
    const t = 0;
    const a = createCheckBudget(1, () => t);
    const b = createCheckBudget(1, () => t);
    a();
    expect(() => b()).not.toThrow();
    expect(() => a()).toThrow(ToolFailure);
  });
});

describe("createRedactor", () => {
  it("replaces every occurrence of the secret", () => {
    const redact = createRedactor(["sk_live_abc123"]);
    expect(redact("key=sk_live_abc123 again sk_live_abc123sk_live_abc123!")).toBe(
      `key=${REDACTED} again ${REDACTED}${REDACTED}!`,
    );
  });

  it("treats the secret literally, not as a pattern", () => {
    const redact = createRedactor(["a.b*c+$"]);
    expect(redact("xa.b*c+$y axbbbc+ y")).toBe(`x${REDACTED}y axbbbc+ y`);
  });

  it("redacts several secrets", () => {
    const redact = createRedactor(["first-secret", undefined, "second-secret"]);
    expect(redact("first-secret / second-secret")).toBe(`${REDACTED} / ${REDACTED}`);
  });

  it("ignores secrets shorter than 4 characters and undefined ones", () => {
    const redact = createRedactor(["abc", "", undefined, "a"]);
    expect(redact("abc a abcabc")).toBe("abc a abcabc");
  });

  it("redacts a secret of exactly 4 characters", () => {
    expect(createRedactor(["abcd"])("xabcdx")).toBe(`x${REDACTED}x`);
  });

  it("returns text without secrets unchanged", () => {
    expect(createRedactor(["sk_live_abc123"])("nothing here")).toBe("nothing here");
    expect(createRedactor([])("sk_live_abc123")).toBe("sk_live_abc123");
  });

  // Regression: secrets were replaced in the order given, leaving the tail of a longer secret containing a shorter one.
  it("fully redacts a secret that contains another secret", () => {
    const redact = createRedactor(["abcd", "abcd-efgh-ijkl"]);
    expect(redact("key abcd-efgh-ijkl")).toBe(`key ${REDACTED}`);
  });
});

describe("DIDIT_REDIS_URL (shared state for --http)", () => {
  const HTTP = { ...NO_ARGS, http: true };
  const PASSWORD = "s3cret-redis-pass";

  it("accepts redis:// and rediss:// with an ACL user, a password and a database; the password is redacted", async () => {
    for (const url of [
      "redis://127.0.0.1:6379",
      `redis://didit:${PASSWORD}@redis.internal:6380/2`,
      `rediss://:${encodeURIComponent(`${PASSWORD}/+`)}@cache.example.com`,
    ]) {
      const config = await loadConfig(HTTP, { DIDIT_REDIS_URL: url });
      expect(config.http?.sharedStore?.url).toBe(url);
      expect(config.http?.sharedStore?.fallbackPerMinute).toBeUndefined();
      if (url.includes(PASSWORD)) {
        const redact = createRedactor([...(config.http?.sharedStore?.secrets ?? [])]);
        expect(redact(`failed: ${PASSWORD}/+ and ${encodeURIComponent(`${PASSWORD}/+`)}`)).not.toContain(
          "s3cret",
        );
      }
    }
    const fallback = await loadConfig(HTTP, {
      DIDIT_REDIS_URL: "redis://localhost",
      DIDIT_REDIS_FALLBACK_PER_MINUTE: "3",
    });
    expect(fallback.http?.sharedStore?.fallbackPerMinute).toBe(3);
  });

  it("without it, nothing is shared", async () => {
    expect((await loadConfig(HTTP, {})).http?.sharedStore).toBeUndefined();
    expect((await loadConfig(HTTP, { DIDIT_REDIS_URL: "  " })).http?.sharedStore).toBeUndefined();
  });

  it("refuses a malformed value at start-up with a message that never quotes it", async () => {
    const cases: [string, RegExp][] = [
      [`redis//didit:${PASSWORD}@cache-7f3a`, /DIDIT_REDIS_URL is not a valid URL/],
      [`http://didit:${PASSWORD}@cache-7f3a:6379`, /must start with redis:\/\/ or rediss:\/\//],
      [`redis://didit:${PASSWORD}@cache-7f3a:6379/cache`, /path must be a database number/],
      [`redis://didit:${PASSWORD}@cache-7f3a:6379/0#${PASSWORD}`, /must not contain a fragment/],
      [`redis://didit:${PASSWORD}@cache-7f3a:99999`, /not a valid URL/],
    ];
    for (const [url, message] of cases) {
      const error = await configErrorOf(loadConfig(HTTP, { DIDIT_REDIS_URL: url }));
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(PASSWORD);
      expect(error.message).not.toContain("cache-7f3a");
    }
  });

  it("DIDIT_REDIS_FALLBACK_PER_MINUTE needs DIDIT_REDIS_URL and a whole number", async () => {
    expect(
      (await configErrorOf(loadConfig(HTTP, { DIDIT_REDIS_FALLBACK_PER_MINUTE: "5" }))).message,
    ).toContain("only applies with DIDIT_REDIS_URL");
    const error = await configErrorOf(
      loadConfig(HTTP, { DIDIT_REDIS_URL: "redis://localhost", DIDIT_REDIS_FALLBACK_PER_MINUTE: "0" }),
    );
    expect(error.message).toContain("DIDIT_REDIS_FALLBACK_PER_MINUTE must be at least 1");
  });
});
