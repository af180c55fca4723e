import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { DOCUMENTED_TAGS, normalizeTag, WARNING_CATALOG } from "../../warnings/catalog.js";
import { explainWarning } from "../../warnings/explain.js";

export const WARNINGS_URI = "didit-liveness://warnings";
const JSON_MIME = "application/json";

/** The warning catalog as resources: the whole list, and one resource per tag with completion of tag names. */
export function registerWarningResources(server: McpServer): void {
  server.registerResource(
    "warnings",
    WARNINGS_URI,
    {
      title: "Didit liveness warning catalog",
      description: `Every passive-liveness and face-match warning tag: the ${DOCUMENTED_TAGS.length} Didit documents plus the on-device pre-check's local-only ones, each with the results it applies to, its severity, whether it declines, the next action, agent guidance and a user message.`,
      mimeType: JSON_MIME,
    },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: JSON_MIME, text: JSON.stringify({ warnings: WARNING_CATALOG }) }],
    }),
  );
  server.registerResource(
    "warning",
    new ResourceTemplate(`${WARNINGS_URI}/{tag}`, {
      list: async () => ({
        resources: WARNING_CATALOG.map((entry) => ({
          uri: `${WARNINGS_URI}/${entry.tag}`,
          name: entry.tag,
          title: entry.title,
          mimeType: JSON_MIME,
        })),
      }),
      complete: {
        tag: (value) => {
          const prefix = normalizeTag(value);
          return WARNING_CATALOG.map((entry) => entry.tag).filter((tag) => tag.startsWith(prefix));
        },
      },
    }),
    {
      title: "One liveness warning",
      description:
        "One warning tag explained, as explain_warning answers it (unknown tags answer known: false).",
      mimeType: JSON_MIME,
    },
    async (uri, variables) => {
      const raw = Array.isArray(variables.tag) ? (variables.tag[0] ?? "") : (variables.tag ?? "");
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: JSON_MIME,
            text: JSON.stringify(explainWarning(decodeTag(raw))),
          },
        ],
      };
    },
  );
}

/** A malformed escape in the URI is the client's mistake: -32602 (invalid params), not an internal error. */
function decodeTag(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new McpError(
      ErrorCode.InvalidParams,
      `${WARNINGS_URI}/${raw.slice(0, 64)}: not a valid percent-encoded warning tag`,
    );
  }
}
