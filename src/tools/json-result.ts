import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";

/**
 * A paid tool's result: checked against its output schema here, where the guard still knows the upload started
 * (so a mismatch says "may have been billed"), rather than first by the SDK after the handler returned.
 */
export function jsonResult(schema: z.ZodType, value: object): CallToolResult {
  schema.parse(value);
  return {
    content: [{ type: "text", text: JSON.stringify(value) }],
    structuredContent: value as Record<string, unknown>,
  };
}
