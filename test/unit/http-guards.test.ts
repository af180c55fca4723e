import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseServerArgs } from "../../src/config/config.js";
import { ToolFailure } from "../../src/core/errors.js";
import {
  createCallerBudgets,
  createCallerShares,
  createRequestSlots,
} from "../../src/transports/http/budgets.js";
import { hostName, isHostAllowed, isOriginAllowed } from "../../src/transports/http/host-origin.js";

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];
const http = (argv: string[], env: Record<string, string> = {}) =>
  loadConfig(parseServerArgs(["--http", ...argv]), env);
const TOKEN = "a-token-of-sixteen-chars";

describe("Host and Origin checks", () => {
  it("reads the host name from a Host header, with or without port, IPv6 in brackets", () => {
    expect(hostName("LocalHost:8080")).toBe("localhost");
    expect(hostName("[::1]:8080")).toBe("[::1]");
    expect(hostName("127.0.0.1")).toBe("127.0.0.1");
    for (const bad of [undefined, "", "a b", "evil.example/x", "user@host", "host:notaport"]) {
      expect(hostName(bad), String(bad)).toBeUndefined();
    }
  });

  it("accepts only the allowed names; * accepts any", () => {
    expect(isHostAllowed("localhost:8080", LOOPBACK)).toBe(true);
    expect(isHostAllowed("evil.example:8080", LOOPBACK)).toBe(false);
    expect(isHostAllowed("localhost.evil.example", LOOPBACK)).toBe(false);
    expect(isHostAllowed(undefined, LOOPBACK)).toBe(false);
    expect(isHostAllowed("anything.example", ["*"])).toBe(true);
  });

  it("takes host:port entries for that port only, while a bare name still means any port", () => {
    const allowed = ["mcp.example.com:8443", "localhost", "[::1]:8080", "api.example.com:443"];
    expect(isHostAllowed("mcp.example.com:8443", allowed)).toBe(true);
    expect(isHostAllowed("MCP.example.com:8443", allowed)).toBe(true);
    expect(isHostAllowed("mcp.example.com:9000", allowed)).toBe(false);
    expect(isHostAllowed("mcp.example.com", allowed)).toBe(false);
    expect(isHostAllowed("localhost:1234", allowed)).toBe(true);
    expect(isHostAllowed("[::1]:8080", allowed)).toBe(true);
    expect(isHostAllowed("[::1]:8081", allowed)).toBe(false);
    // No port in the Host: the scheme's default, 80 or 443 (behind a TLS proxy we cannot tell which).
    expect(isHostAllowed("api.example.com", allowed)).toBe(true);
    expect(isHostAllowed("api.example.com:80", allowed)).toBe(false);
    // A browser origin is judged the same way, with its scheme's default port.
    expect(isOriginAllowed("https://mcp.example.com:8443", allowed, [])).toBe(true);
    expect(isOriginAllowed("https://mcp.example.com", allowed, [])).toBe(false);
    expect(isOriginAllowed("https://api.example.com", allowed, [])).toBe(true);
    expect(isOriginAllowed("http://api.example.com", allowed, [])).toBe(false);
  });

  it("lets non-browser clients (no Origin) through, and browsers only from allowed origins", () => {
    expect(isOriginAllowed(undefined, LOOPBACK, [])).toBe(true);
    expect(isOriginAllowed("http://localhost:3000", LOOPBACK, [])).toBe(true);
    expect(isOriginAllowed("https://evil.example", LOOPBACK, [])).toBe(false);
    expect(isOriginAllowed("null", LOOPBACK, [])).toBe(false);
    expect(isOriginAllowed("file://", LOOPBACK, [])).toBe(false);
    expect(isOriginAllowed("https://app.example", ["*"], [])).toBe(false);
    expect(isOriginAllowed("https://app.example/", ["*"], ["https://app.example"])).toBe(true);
  });
});

describe("remote mode configuration", () => {
  it("defaults to 127.0.0.1:8080 with the loopback names, and is absent without --http", async () => {
    const config = await http([]);
    expect(config.http).toMatchObject({ host: "127.0.0.1", port: 8080, allowedHosts: LOOPBACK, tokens: [] });
    expect((await loadConfig(parseServerArgs([]), {})).http).toBeUndefined();
  });

  it("refuses a non-loopback host without tokens or OAuth", async () => {
    await expect(http(["--host", "10.0.0.5"])).rejects.toThrow(/without authentication/);
    await expect(http(["--host", "10.0.0.5"], { DIDIT_MCP_TOKENS: TOKEN })).resolves.toMatchObject({
      http: { allowedHosts: ["10.0.0.5"] },
    });
  });

  it("needs the allowed host names when bound to every interface", async () => {
    await expect(http(["--host", "0.0.0.0"], { DIDIT_MCP_TOKENS: TOKEN })).rejects.toThrow(
      /DIDIT_ALLOWED_HOSTS/,
    );
    const config = await http(["--host", "0.0.0.0"], {
      DIDIT_MCP_TOKENS: TOKEN,
      DIDIT_ALLOWED_HOSTS: "MCP.example.com, *",
    });
    expect(config.http?.allowedHosts).toEqual(["mcp.example.com", "*"]);
  });

  it("refuses short tokens, half an OAuth setup, an http issuer off loopback, and confirm-uploads", async () => {
    await expect(http([], { DIDIT_MCP_TOKENS: "short" })).rejects.toThrow(/16 characters/);
    await expect(http([], { DIDIT_MCP_OAUTH_ISSUER: "https://id.example" })).rejects.toThrow(/both/);
    await expect(
      http([], { DIDIT_MCP_OAUTH_ISSUER: "http://id.example", DIDIT_MCP_OAUTH_AUDIENCE: "x" }),
    ).rejects.toThrow(/https/);
    await expect(
      http([], { DIDIT_MCP_OAUTH_ISSUER: "http://127.0.0.1:9000", DIDIT_MCP_OAUTH_AUDIENCE: "x" }),
    ).resolves.toMatchObject({ http: { oauth: { issuer: "http://127.0.0.1:9000", audience: "x" } } });
    await expect(http([], { DIDIT_CONFIRM_UPLOADS: "true" })).rejects.toThrow(ConfigError);
    await expect(http(["--port", "99999"])).rejects.toThrow(/--port/);
  });

  it("gives each token half the in-flight slots and bodies 10 s by default, both configurable", async () => {
    expect((await http([])).http).toMatchObject({
      maxInFlight: 64,
      maxInFlightPerToken: 32,
      bodyTimeoutMs: 10_000,
    });
    expect((await http([], { DIDIT_HTTP_MAX_IN_FLIGHT: "5" })).http?.maxInFlightPerToken).toBe(3);
    expect(
      (await http([], { DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN: "7", DIDIT_HTTP_BODY_TIMEOUT_MS: "2500" })).http,
    ).toMatchObject({ maxInFlightPerToken: 7, bodyTimeoutMs: 2500 });
    await expect(http([], { DIDIT_HTTP_BODY_TIMEOUT_MS: "999" })).rejects.toThrow(
      /DIDIT_HTTP_BODY_TIMEOUT_MS/,
    );
  });

  it("refuses remote-mode flags without --http, so a typo never goes unnoticed", async () => {
    await expect(loadConfig(parseServerArgs(["--port", "9000"]), {})).rejects.toThrow(
      /only apply with --http/,
    );
  });
});

describe("per-caller budgets", () => {
  it("refuses a caller over its share without spending the process budget", () => {
    let t = 0;
    const refusals: string[] = [];
    const budgets = createCallerBudgets(
      3,
      2,
      (scope) => refusals.push(scope),
      () => t,
    );
    const a = budgets("a");
    const b = budgets("b");
    a();
    a();
    expect(() => a()).toThrow(ToolFailure);
    b();
    expect(() => b()).toThrow(/DIDIT_MAX_CHECKS_PER_MINUTE/);
    expect(refusals).toEqual(["token", "process"]);
    t += 60_001;
    a();
  });

  it("reserves all or nothing: a refusal of either budget leaves both as they were, and release returns to both", () => {
    const t = 0;
    const budgets = createCallerBudgets(
      3,
      2,
      () => {},
      () => t,
    );
    const a = budgets("a");
    const b = budgets("b");
    a();
    // Two checks (verify_selfie) with one left in a's share: refused, and the one left is still there.
    expect(() => a(2)).toThrow(/fewer than the 2/);
    a();
    expect(() => a()).toThrow(ToolFailure);
    // The process has one left: b's two are refused by it, and b's own share is not spent by the refusal.
    expect(() => b(2)).toThrow(ToolFailure);
    b();
    expect(() => b()).toThrow(ToolFailure);
    // A skipped face match goes back to the caller's share and to the process.
    b.release();
    b();
  });

  it("names the setting that refused: the token's share, or the process budget", () => {
    const budgets = createCallerBudgets(
      3,
      1,
      () => {},
      () => 0,
    );
    const a = budgets("a");
    a();
    expect(() => a()).toThrow(/\(DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN\)/);
    budgets("b")();
    budgets("c")();
    expect(() => budgets("d")()).toThrow(/\(DIDIT_MAX_CHECKS_PER_MINUTE\)/);
  });

  it("shares requests in flight the same way: a caller's share, then the process, given back on release", () => {
    const slots = createRequestSlots(3);
    const shares = createCallerShares(slots, () => createRequestSlots(2));
    const a = shares("a");
    expect(a.reserve(1)).toBeUndefined();
    expect(a.reserve(1)).toBeUndefined();
    expect(a.reserve(1)?.scope).toBe("token");
    expect(slots.held).toBe(2);
    const b = shares("b");
    expect(b.reserve(1)).toBeUndefined();
    expect(b.reserve(1)?.scope).toBe("process");
    // The process's refusal left b's share as it was: b holds one.
    a.release(1);
    expect(b.reserve(1)).toBeUndefined();
    expect(b.reserve(1)?.scope).toBe("token");
    expect(slots.held).toBe(3);
  });
});
