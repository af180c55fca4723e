import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type HttpServerProcess,
  INITIALIZE,
  mcpHeaders,
  rawRequest,
  spawnHttpServer,
} from "../support/http-spawn.js";
import { baseEnv } from "../support/spawn.js";

const AUDIENCE = "https://mcp.example.test/mcp";

/** A minimal OAuth authorization server on 127.0.0.1: RFC 8414 metadata and a JWKS, with keys of its own. */
async function startIssuer() {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  let issuer = "";
  const server: Server = createServer((req, res) => {
    if (req.url === "/.well-known/oauth-authorization-server") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, token_endpoint: `${issuer}/token` }));
    } else if (req.url === "/jwks") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sign = (claims: { aud?: string; exp?: number; iss?: string }, key = privateKey) =>
    new SignJWT({ scope: "mcp" })
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setSubject("agent-42@example.test")
      .setIssuer(claims.iss ?? issuer)
      .setAudience(claims.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(key);
  return { issuer, sign, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let issuer: Awaited<ReturnType<typeof startIssuer>>;
let server: HttpServerProcess;

beforeAll(async () => {
  issuer = await startIssuer();
  server = await spawnHttpServer({
    env: baseEnv({ DIDIT_MCP_OAUTH_ISSUER: issuer.issuer, DIDIT_MCP_OAUTH_AUDIENCE: AUDIENCE }),
  });
});

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
});

describe("remote mode: OAuth while the issuer is down", () => {
  it("asks the issuer again only after a pause, not on every bad token", async () => {
    let discoveries = 0;
    const down: Server = createServer((_req, res) => {
      discoveries++;
      res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => down.listen(0, "127.0.0.1", resolve));
    const downIssuer = `http://127.0.0.1:${(down.address() as AddressInfo).port}`;
    const replica = await spawnHttpServer({
      env: baseEnv({ DIDIT_MCP_OAUTH_ISSUER: downIssuer, DIDIT_MCP_OAUTH_AUDIENCE: AUDIENCE }),
    });
    try {
      // The start-up attempt: both discovery documents, once.
      await replica.waitForLog((l) => String(l.msg).includes("not reachable yet"));
      expect(discoveries).toBe(2);
      const jwtShaped = `Bearer ${Buffer.from('{"alg":"RS256"}').toString("base64url")}.e30.c2ln`;
      for (let i = 0; i < 5; i++) {
        const response = await rawRequest(replica.url, {
          method: "POST",
          headers: mcpHeaders({ authorization: jwtShaped }),
          body: JSON.stringify(INITIALIZE),
        });
        expect(response.status).toBe(503);
        expect(response.headers["retry-after"]).toBeDefined();
      }
      expect(discoveries).toBe(2);
    } finally {
      await replica.stop();
      await new Promise<void>((resolve) => down.close(() => resolve()));
    }
  });
});

const post = (authorization?: string) =>
  rawRequest(server.url, {
    method: "POST",
    headers: mcpHeaders(authorization ? { authorization } : {}),
    body: JSON.stringify(INITIALIZE),
  });

describe("remote mode: OAuth 2.1 resource server", () => {
  it("accepts a token from the issuer, for our audience, through the SDK client", async () => {
    const client = await server.connect(await issuer.sign({}));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("check_passive_liveness");
    const line = await server.waitForLog((l) => l.msg === "request" && l.method === "tools/list");
    expect(line?.token_id).toMatch(/^o:[0-9a-f]{8}$/);
    expect(server.stderr()).not.toContain("agent-42");
  });

  it("answers 401 pointing at the RFC 9728 metadata without a token", async () => {
    const response = await post();
    expect(response.status).toBe(401);
    const metadataUrl = `${server.origin}/.well-known/oauth-protected-resource/mcp`;
    expect(response.headers["www-authenticate"]).toBe(`Bearer resource_metadata="${metadataUrl}"`);
    const metadata = await rawRequest(metadataUrl, {});
    expect(metadata.status).toBe(200);
    expect(JSON.parse(metadata.body)).toMatchObject({
      resource: server.url,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ["header"],
    });
    expect((await rawRequest(`${server.origin}/.well-known/oauth-protected-resource`, {})).status).toBe(200);
  });

  it("refuses an expired token, a token for another audience, another issuer, and a foreign key", async () => {
    const { privateKey: foreignKey } = await generateKeyPair("RS256");
    const cases = {
      expired: await issuer.sign({ exp: Math.floor(Date.now() / 1000) - 60 }),
      "wrong audience": await issuer.sign({ aud: "https://other.example.test/mcp" }),
      "wrong issuer": await issuer.sign({ iss: "https://evil.example.test" }),
      "foreign key": await issuer.sign({}, foreignKey),
    };
    for (const [name, token] of Object.entries(cases)) {
      const response = await post(`Bearer ${token}`);
      expect(response.status, name).toBe(401);
      expect(response.headers["www-authenticate"], name).toContain('error="invalid_token"');
      expect(response.headers["www-authenticate"], name).toContain("resource_metadata=");
    }
    const reasons = server
      .logLines()
      .filter((l) => l.msg === "request" && l.status === 401)
      .map((l) => String(l.outcome));
    expect(reasons).toEqual(expect.arrayContaining([expect.stringContaining("ERR_JWT_EXPIRED")]));
  });

  it("builds the metadata from the allowed hosts: a forged Host never gets into the cacheable document", async () => {
    const port = new URL(server.url).port;
    const metadataPath = "/.well-known/oauth-protected-resource/mcp";
    const forged = await rawRequest(`${server.origin}${metadataPath}`, { headers: { host: "evil.example" } });
    expect(forged.status).toBe(200);
    expect(forged.body).not.toContain("evil.example");
    // Not an allowed host: the audience (the public /mcp URL) names the resource.
    expect(JSON.parse(forged.body).resource).toBe(AUDIENCE);
    expect(forged.headers.vary).toMatch(/host/i);
    const local = await rawRequest(`${server.origin}${metadataPath}`, {
      headers: { host: `localhost:${port}` },
    });
    expect(JSON.parse(local.body).resource).toBe(`http://localhost:${port}/mcp`);
  });

  it("is not ready without a key: /readyz says why, /healthz is still up", async () => {
    const ready = await rawRequest(`${server.origin}/readyz`, {});
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).reason).toContain("DIDIT_API_KEY");
    expect((await rawRequest(`${server.origin}/healthz`, {})).status).toBe(200);
  });
});
