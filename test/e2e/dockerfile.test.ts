import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openForUser, replayDockerfile, type Stage, startImage } from "../support/dockerfile.js";
import { LISTED_TOOLS } from "../support/install-forms.js";
import { ROOT } from "../support/packed.js";

// The remote-mode image, built the only way this machine can (no Docker engine, no container registry): its
// stages replayed on a fresh clone of the committed tree (test/support/dockerfile.ts), then its ENTRYPOINT + CMD
// started on a loopback port and its tools listed over Streamable HTTP, as deploy/docker-compose.yml runs it.
// In the full set (`npm run test:all`): a clone, an `npm ci` and a build (~1 min on 2 cores).

const TIMEOUT_MS = 300_000;
const TOKEN = "a-long-random-docker-replay-token";
const server = JSON.parse(readFileSync(path.join(ROOT, "server.json"), "utf8")) as { name: string };
const engines = (
  JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }
).engines.node;

let work: string;
let stages: Stage[];

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "didit-docker-"));
  const clone = path.join(work, "clone");
  const cloned = spawnSync("git", ["clone", "-q", ROOT, clone], { encoding: "utf8" });
  expect(cloned.status, cloned.stderr).toBe(0);
  stages = replayDockerfile(path.join(clone, "Dockerfile"), {
    context: clone,
    into: path.join(work, "stages"),
    timeoutMs: TIMEOUT_MS,
    log: (line) => process.stderr.write(`docker replay: ${line}\n`),
  });
  openForUser(work);
}, TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the Dockerfile, replayed on a fresh clone", { timeout: TIMEOUT_MS }, () => {
  it("builds on node:20 (engines) and labels the image with server.json's name for the MCP registry", () => {
    const image = stages.at(-1) as Stage;
    for (const stage of stages) expect(stage.from).toMatch(/^node:20(-|$)/);
    expect(engines).toMatch(/^>=20\./);
    expect(image.labels["io.modelcontextprotocol.server.name"]).toBe(server.name);
    expect(image.user).toBe("node");
    expect(image.expose).toEqual(["8080"]);
  });

  it("starts its ENTRYPOINT + CMD (on a loopback port), passes its HEALTHCHECK and lists the five tools over HTTP", async () => {
    const image = stages.at(-1) as Stage;
    expect([...image.entrypoint, ...image.cmd]).toEqual([
      "node",
      "dist/index.js",
      "--http",
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
    ]);
    // Bound to 127.0.0.1 on a free port instead of 0.0.0.0:8080; the env is docker-compose.yml's (no key).
    const argv = [...image.entrypoint, ...image.cmd].map((word, i, all) =>
      all[i - 1] === "--host" ? "127.0.0.1" : all[i - 1] === "--port" ? "0" : word,
    );
    const child = startImage(image, argv, {
      DIDIT_MCP_TOKENS: TOKEN,
      DIDIT_ALLOWED_HOSTS: "localhost,127.0.0.1",
    });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr?.on("data", (chunk: Buffer) => {
          stderr += chunk.toString("utf8");
          const match = /"msg":"ready","url":"([^"]+)"/.exec(stderr);
          if (match?.[1]) resolve(match[1]);
        });
        void exited.then((code) => reject(new Error(`the image's command exited (${code}): ${stderr}`)));
      });
      const port = new URL(url).port;
      const [check = "", ...checkArgs] = image.healthcheck ?? [];
      const health = spawnSync(
        check === "node" ? process.execPath : check,
        checkArgs.map((arg) => arg.replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`)),
        { encoding: "utf8", timeout: 10_000 },
      );
      expect(health.status, `HEALTHCHECK: ${health.stderr}`).toBe(0);
      const client = new Client({ name: "docker-replay", version: "1.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
        }),
      );
      try {
        const { tools } = await client.listTools();
        // The five and the verdict view's thumbnail tool, as every install form lists them; the view's HTML is
        // in the image too (the build stage writes it, the runtime stage copies dist/).
        expect(tools.map((tool) => tool.name).sort()).toEqual(LISTED_TOOLS);
        const view = await client.readResource({ uri: "ui://didit-passive-liveness/verdict.html" });
        expect(view.contents[0]).toMatchObject({ mimeType: "text/html;profile=mcp-app" });
      } finally {
        await client.close();
      }
    } finally {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    }
  });

  it("deploy/docker-compose.yml builds this Dockerfile and runs the same command", () => {
    const image = stages.at(-1) as Stage;
    const compose = readFileSync(path.join(ROOT, "deploy", "docker-compose.yml"), "utf8");
    expect(compose).toMatch(/^ {4}build: \.\.$/m);
    const command = /^ {4}command: (\[.*\])$/m.exec(compose)?.[1];
    expect(command, "docker-compose.yml's mcp command").toBeDefined();
    expect(JSON.parse(command ?? "[]")).toEqual(image.cmd);
    expect(compose).toMatch(/DIDIT_MCP_TOKENS:/);
    expect(compose).toMatch(/DIDIT_ALLOWED_HOSTS: localhost,127\.0\.0\.1/);
  });
});
