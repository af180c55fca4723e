#!/usr/bin/env node
// A full agent round trip without a key or network: spawn the built server in sandbox mode over stdio, connect a
// real MCP client, list the tools, check the bundled sample, run the selfie-vs-ID flow, explain a warning, and
// print what the agent saw.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const samples = path.join(root, "samples");
const out = (text = "") => process.stdout.write(`${text}\n`);
const show = (label, result) => {
  out(`\n--- ${label} ---`);
  for (const part of result.content ?? []) if (part.type === "text") out(part.text);
  if (result.isError) out("(tool error)");
};

const transport = new StdioClientTransport({
  command: process.execPath,
  args: [path.join(root, "dist", "index.js"), "--sandbox", "--allow-dir", samples],
  env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
  stderr: "ignore",
});
const client = new Client({ name: "didit-liveness-demo", version: "1.0.0" });
await client.connect(transport);
try {
  const info = client.getServerVersion();
  out(`Connected to ${info?.name} ${info?.version} (sandbox mode: no key, no network).`);
  out(`\nServer instructions:\n${client.getInstructions()}`);

  const { tools } = await client.listTools();
  out("\nTools:");
  for (const tool of tools) out(`  - ${tool.name}: ${tool.annotations?.title ?? tool.title ?? ""}`);

  const approved = await client.callTool({
    name: "check_passive_liveness",
    arguments: { image_path: "selfie.jpg" },
  });
  show("check_passive_liveness { image_path: 'selfie.jpg' }", approved);

  const spoof = await client.callTool({
    name: "check_passive_liveness",
    arguments: { image_path: "selfie.jpg", vendor_data: "sandbox:spoof" },
  });
  show("check_passive_liveness { ..., vendor_data: 'sandbox:spoof' }", spoof);

  const refused = await client.callTool({
    name: "check_passive_liveness",
    arguments: { image_path: "/etc/passwd" },
  });
  show("check_passive_liveness { image_path: '/etc/passwd' }", refused);

  const explained = await client.callTool({
    name: "explain_warning",
    arguments: { tag: "low face luminance" },
  });
  show("explain_warning { tag: 'low face luminance' }", explained);

  // Didit's second documented workflow in one call: liveness on the selfie, then (only if it passed) a face match
  // against the ID portrait. The sample selfie doubles as the reference here; in sandbox mode pixels are not judged.
  const verified = await client.callTool({
    name: "verify_selfie",
    arguments: { user_image_path: "selfie.jpg", ref_image_path: "selfie.jpg" },
  });
  show("verify_selfie { user_image_path: 'selfie.jpg', ref_image_path: 'selfie.jpg' }", verified);

  const spoofed = await client.callTool({
    name: "verify_selfie",
    arguments: { user_image_path: "selfie.jpg", ref_image_path: "selfie.jpg", vendor_data: "sandbox:spoof" },
  });
  show("verify_selfie { ..., vendor_data: 'sandbox:spoof' } (no face match is made)", spoofed);

  const mismatch = await client.callTool({
    name: "verify_selfie",
    arguments: {
      user_image_path: "selfie.jpg",
      ref_image_path: "selfie.jpg",
      vendor_data: "sandbox:no-match",
    },
  });
  show("verify_selfie { ..., vendor_data: 'sandbox:no-match' }", mismatch);

  const next = approved.structuredContent?.next_action;
  out(`\nThe agent's next step after the first check: next_action = ${next}.`);
  const v = verified.structuredContent ?? {};
  out(
    `Selfie vs ID: identity_verified = ${v.identity_verified}, next_action = ${v.next_action}, credits_used = ${v.credits_used} (sandbox; a real full verify costs 2, a skipped match 1).`,
  );
} finally {
  await client.close();
}
