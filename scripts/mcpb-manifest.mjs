// The Claude Desktop bundle's manifest.json, made from package.json and the LIVE tool definitions (dist/, so run
// `npm run build` first), so the tools it lists are always the ones the server lists. build-mcpb.mjs writes it;
// test/e2e/mcpb-manifest.test.ts checks it without building the bundle.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { listDefinitions } from "./render-tools-reference.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLE_FILE = "didit-passive-liveness-mcp.mcpb";

/**
 * The platforms the bundle runs on: the server is plain JavaScript, and the pre-check's one native part (sharp)
 * ships as the build machine's binary plus sharp's WebAssembly build, which sharp loads wherever no native binary
 * of its platform is there (build-mcpb.mjs copies both).
 */
export const PLATFORMS = ["darwin", "win32", "linux"];

/** A host-substituted variable, "${name}" (built, so it is not mistaken for a template literal). */
const hostVar = (name) => `\${${name}}`;

/** The first sentence of a tool's description: what Claude Desktop shows in the extension's tool list. */
function firstSentence(text) {
  return (/^[\s\S]*?[.!?](?=\s|$)/.exec(text)?.[0] ?? text).trim();
}

export async function buildManifest(pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"))) {
  const { tools } = await listDefinitions();
  const { name, version, description, license, homepage, repository } = pkg;
  return {
    manifest_version: "0.3",
    name,
    display_name: "Didit Passive Liveness",
    version,
    description,
    author: { name: "didit-community" },
    homepage,
    repository: { type: "git", url: repository.url.replace(/^git\+/, "") },
    license,
    server: {
      type: "node",
      entry_point: "mcpb-entry.mjs",
      mcp_config: {
        command: "node",
        // Each chosen directory arrives as its own argument; mcpb-entry.mjs turns them into --allow-dir flags.
        args: [`${hostVar("__dirname")}/mcpb-entry.mjs`, hostVar("user_config.allowed_directories")],
        env: { DIDIT_API_KEY: hostVar("user_config.api_key"), DIDIT_SANDBOX: hostVar("user_config.sandbox") },
      },
    },
    tools: tools.map((tool) => ({
      name: tool.name,
      description: firstSentence(tool.description ?? tool.name),
    })),
    user_config: {
      api_key: {
        type: "string",
        title: "Didit API key",
        description:
          "From the Didit Business Console (API & Webhooks). Leave empty with sandbox mode on to try it.",
        sensitive: true,
        required: false,
        default: "",
      },
      allowed_directories: {
        type: "directory",
        title: "Photo folders",
        description: "Folders image_path may read face photos from.",
        multiple: true,
        required: false,
        default: [],
      },
      sandbox: {
        type: "boolean",
        title: "Sandbox mode",
        description: "Mocked offline results; nothing is uploaded and no key is needed.",
        required: false,
        default: false,
      },
    },
    compatibility: { platforms: PLATFORMS, runtimes: { node: pkg.engines.node } },
  };
}

/** server.json's entry for the bundle as a GitHub release asset of this version, with the file's SHA-256. */
export function mcpbPackageEntry(version, bundleBytes) {
  return {
    registryType: "mcpb",
    identifier: `https://github.com/didit-community/didit-passive-liveness-mcp/releases/download/v${version}/${BUNDLE_FILE}`,
    version,
    fileSha256: createHash("sha256").update(bundleBytes).digest("hex"),
    transport: { type: "stdio" },
  };
}
