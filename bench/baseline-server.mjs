#!/usr/bin/env node
// The cold-start baseline: a minimal stdio MCP server on the same SDK with one trivial tool, nothing else.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "baseline", version: "1.0.0" });
server.registerTool(
  "echo",
  { description: "Echoes its input.", inputSchema: { text: z.string() } },
  async ({ text }) => ({ content: [{ type: "text", text }] }),
);
await server.connect(new StdioServerTransport());
process.stdin.on("end", () => process.exit(0));
