import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/** What the test asks the host page (page/host.ts) to render. */
export interface RenderRequest {
  html: string;
  toolName: string;
  args: Record<string, unknown>;
  result: CallToolResult;
  theme: "light" | "dark";
}

/** The host page's globals, as both sides see them. */
export interface HostGlobals {
  forwardToolCall(params: { name: string; arguments?: Record<string, unknown> }): Promise<CallToolResult>;
  renderView(request: RenderRequest): Promise<void>;
}
