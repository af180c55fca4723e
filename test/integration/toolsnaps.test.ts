import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InMemorySession, startInMemory, testConfig } from "../support/in-memory.js";

// Each tool's contract as tools/list shows it (name, title, description, annotations, input and output schema,
// _meta), one committed file per tool, as github/github-mcp-server keeps its __toolsnaps__: a change to a tool's
// contract shows up as a diff of its file in review. To accept a change on purpose:
//   UPDATE_TOOLSNAPS=1 npx vitest run test/integration/toolsnaps.test.ts
// and commit the rewritten files with the change.

const SNAPS_DIR = path.resolve(import.meta.dirname, "../__toolsnaps__");
const SNAP_SUFFIX = ".snap.json";
const UPDATE = process.env.UPDATE_TOOLSNAPS === "1" || process.env.UPDATE_TOOLSNAPS === "true";
const UPDATE_COMMAND = "UPDATE_TOOLSNAPS=1 npx vitest run test/integration/toolsnaps.test.ts";
/** The fields first, in the order a reader wants them; anything else the listing carries follows. */
const LEADING_KEYS = ["name", "title", "description", "annotations", "inputSchema", "outputSchema", "_meta"];

let session: InMemorySession;
let listed: Tool[];

beforeAll(async () => {
  // The default server: every tool, so the app-only view_face_thumbnail too; no key (listing needs none).
  session = await startInMemory(testConfig());
  listed = (await session.client.listTools()).tools;
  if (UPDATE) writeSnapshots(listed);
});
afterAll(async () => {
  await session?.close();
});

function snapPath(tool: string): string {
  return path.join(SNAPS_DIR, `${tool}${SNAP_SUFFIX}`);
}

/** The listed tool as plain JSON with its top-level keys in a fixed order, so the file reads the same each time. */
function snapshotOf(tool: Tool): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(tool)) as Record<string, unknown>;
  const rest = Object.keys(plain)
    .filter((key) => !LEADING_KEYS.includes(key))
    .sort();
  return Object.fromEntries(
    [...LEADING_KEYS, ...rest].filter((key) => key in plain).map((key) => [key, plain[key]]),
  );
}

function committedSnaps(): string[] {
  if (!existsSync(SNAPS_DIR)) return [];
  return readdirSync(SNAPS_DIR)
    .filter((file) => file.endsWith(SNAP_SUFFIX))
    .map((file) => file.slice(0, -SNAP_SUFFIX.length))
    .sort();
}

/** UPDATE_TOOLSNAPS: each listed tool's file rewritten, the files of tools no longer listed removed. */
function writeSnapshots(tools: Tool[]): void {
  mkdirSync(SNAPS_DIR, { recursive: true });
  const names = tools.map((tool) => tool.name);
  for (const stale of committedSnaps().filter((name) => !names.includes(name))) rmSync(snapPath(stale));
  for (const tool of tools)
    writeFileSync(snapPath(tool.name), `${JSON.stringify(snapshotOf(tool), null, 2)}\n`);
}

describe("tool schema snapshots (test/__toolsnaps__)", () => {
  it("are taken of every listed tool, the app-only thumbnail tool included", () => {
    expect(listed.map((tool) => tool.name)).toContain("view_face_thumbnail");
  });

  it("are committed one per listed tool, none for a tool the server no longer lists", () => {
    const names = listed.map((tool) => tool.name).sort();
    const committed = committedSnaps();
    expect(
      {
        missing: names.filter((name) => !committed.includes(name)),
        stale: committed.filter((name) => !names.includes(name)),
      },
      `each listed tool needs test/__toolsnaps__/<tool>${SNAP_SUFFIX} and each such file a listed tool; ` +
        `if the tool list changed on purpose, run ${UPDATE_COMMAND} and commit the files`,
    ).toEqual({ missing: [], stale: [] });
  });

  it("match each tool's contract as listed", () => {
    for (const tool of listed) {
      const file = snapPath(tool.name);
      if (!existsSync(file)) continue; // named by the test above
      // Soft, so one run shows the diff of every tool that changed, not only the first.
      expect
        .soft(
          snapshotOf(tool),
          `the contract of ${tool.name} differs from test/__toolsnaps__/${tool.name}${SNAP_SUFFIX}; ` +
            `if the change is intended, run ${UPDATE_COMMAND} and commit the diff`,
        )
        .toStrictEqual(JSON.parse(readFileSync(file, "utf8")));
    }
  });
});
