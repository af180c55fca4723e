#!/usr/bin/env node
// The protocol floor for a large argument: an MCP server on the same SDK and the same stdio transport as ours,
// whose only tool receives a base64 argument and decodes it. Anything ours costs beyond this is its own work.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { StdioLineTransport } from "../dist/transports/stdio/line-transport.js";

const server = new McpServer({ name: "floor", version: "1.0.0" });
server.registerTool(
  "decode",
  { description: "Decodes base64 and returns the byte count.", inputSchema: { image_base64: z.string() } },
  async ({ image_base64 }) => ({
    content: [{ type: "text", text: String(Buffer.from(image_base64, "base64").length) }],
  }),
);
await server.connect(new StdioLineTransport(process.stdin, process.stdout, 64 * 1024 * 1024));
process.stdin.on("end", () => process.exit(0));
