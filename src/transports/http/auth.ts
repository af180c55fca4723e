import { createHash, timingSafeEqual } from "node:crypto";
import type { HttpConfig } from "../../config/config.js";
import { isLoopbackHost } from "../../config/config.js";
import type { Logger } from "../../core/log.js";

/** Who called, as logs and budgets may name them: a short hash, never the token. */
export interface Caller {
  tokenId: string;
}

export type AuthOutcome =
  | { ok: true; caller: Caller }
  | {
      ok: false;
      status: 401 | 503;
      error: "missing_token" | "invalid_token" | "auth_unavailable";
      reason: string;
    };

export interface Authenticator {
  /** False on loopback without tokens or OAuth configured: everyone is "anonymous". */
  readonly required: boolean;
  authenticate(authorization: string | undefined): Promise<AuthOutcome>;
}

const DISCOVERY_TIMEOUT_MS = 5_000;
/** After a failed discovery, how long requests are answered with that failure instead of asking the issuer again. */
export const DISCOVERY_RETRY_MS = 10_000;
const CLOCK_TOLERANCE_S = 5;

/** The first 8 hex digits of a SHA-256: enough to tell callers apart in logs, useless to an attacker. */
export function shortHash(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 8);
}

export function createAuthenticator(http: HttpConfig, logger: Logger): Authenticator {
  const digests = http.tokens.map((t) => ({ digest: sha256(t), id: `t:${shortHash(t)}` }));
  const verifyJwt = http.oauth ? createJwtVerifier(http.oauth, logger) : undefined;
  const required = digests.length > 0 || verifyJwt !== undefined;
  return {
    required,
    async authenticate(authorization) {
      if (!required) return { ok: true, caller: { tokenId: "anonymous" } };
      const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization ?? "");
      if (!match?.[1]) {
        return { ok: false, status: 401, error: "missing_token", reason: "no bearer token" };
      }
      const token = match[1];
      // Hashing first gives equal-length inputs; every token is compared, so timing says nothing about which.
      const presented = sha256(token);
      let found: string | undefined;
      for (const { digest, id } of digests) if (timingSafeEqual(presented, digest)) found ??= id;
      if (found !== undefined) return { ok: true, caller: { tokenId: found } };
      if (verifyJwt && token.split(".").length === 3) return verifyJwt(token);
      return { ok: false, status: 401, error: "invalid_token", reason: "unknown token" };
    },
  };
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

type Jose = typeof import("jose");

/** OAuth 2.1 resource server: JWTs signed by the issuer's keys (JWKS found from its metadata), for our audience. */
function createJwtVerifier(
  oauth: { issuer: string; audience: string },
  logger: Logger,
): (token: string) => Promise<AuthOutcome> {
  let keys: Promise<{ jose: Jose; jwks: ReturnType<Jose["createRemoteJWKSet"]> }> | undefined;
  // While the issuer is down every token would cost two discovery fetches: the failure is kept for a while.
  let failed: { at: number; error: unknown } | undefined;
  const getKeys = () => {
    if (keys === undefined && failed !== undefined && Date.now() - failed.at < DISCOVERY_RETRY_MS) {
      return Promise.reject(failed.error);
    }
    keys ??= (async () => {
      const jose = await import("jose");
      const jwksUri = await discoverJwksUri(oauth.issuer);
      logger.log("info", `OAuth: issuer ${oauth.issuer}, keys from ${jwksUri}`);
      // jose caches the key set and refetches on an unknown kid (rate limited by its cooldown).
      return {
        jose,
        jwks: jose.createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: DISCOVERY_TIMEOUT_MS }),
      };
    })().catch((error: unknown) => {
      keys = undefined; // try again once DISCOVERY_RETRY_MS has passed
      failed = { at: Date.now(), error };
      throw error;
    });
    return keys;
  };
  // Found at start-up so the first caller does not wait, and a wrong issuer shows in the log at once.
  getKeys().catch((error: unknown) =>
    logger.log("warning", `OAuth: issuer metadata not reachable yet: ${describe(error)}`),
  );
  return async (token) => {
    let loaded: Awaited<ReturnType<typeof getKeys>>;
    try {
      loaded = await getKeys();
    } catch (error) {
      return {
        ok: false,
        status: 503,
        error: "auth_unavailable",
        reason: `issuer unreachable: ${describe(error)}`,
      };
    }
    try {
      const { payload } = await loaded.jose.jwtVerify(token, loaded.jwks, {
        issuer: oauth.issuer,
        audience: oauth.audience,
        requiredClaims: ["exp"],
        clockTolerance: CLOCK_TOLERANCE_S,
      });
      const subject = String(payload.sub ?? payload.client_id ?? payload.azp ?? "");
      return { ok: true, caller: { tokenId: `o:${shortHash(`${oauth.issuer} ${subject}`)}` } };
    } catch (error) {
      const code = (error as { code?: string }).code ?? "ERR_JWT_INVALID";
      if (code === "ERR_JWKS_TIMEOUT" || code === "ERR_JOSE_GENERIC") {
        return { ok: false, status: 503, error: "auth_unavailable", reason: code };
      }
      return { ok: false, status: 401, error: "invalid_token", reason: code };
    }
  };
}

/** RFC 8414 metadata first, then OpenID Connect discovery; the issuer they state must be ours. */
export async function discoverJwksUri(issuer: string): Promise<string> {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, "");
  const candidates = [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
  const failures: string[] = [];
  for (const candidate of candidates) {
    let response: Response;
    try {
      response = await fetch(candidate, {
        signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS),
        redirect: "error",
        headers: { accept: "application/json" },
      });
    } catch (error) {
      failures.push(`${candidate}: ${describe(error)}`);
      continue;
    }
    if (!response.ok) {
      failures.push(`${candidate}: HTTP ${response.status}`);
      await response.body?.cancel();
      continue;
    }
    const metadata = (await response.json().catch(() => ({}))) as { issuer?: unknown; jwks_uri?: unknown };
    if (metadata.issuer !== issuer && metadata.issuer !== `${issuer}/`) {
      throw new Error(`${candidate} names issuer ${String(metadata.issuer).slice(0, 200)}, not ${issuer}`);
    }
    if (typeof metadata.jwks_uri !== "string") throw new Error(`${candidate} has no jwks_uri`);
    const jwks = new URL(metadata.jwks_uri);
    if (jwks.protocol !== "https:" && !(jwks.protocol === "http:" && isLoopbackHost(jwks.hostname))) {
      throw new Error(`jwks_uri ${jwks.href} is not https`);
    }
    return jwks.href;
  }
  throw new Error(`no authorization server metadata (${failures.join("; ")})`);
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}
