import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { ToolFailure } from "./errors.js";
import { formatBytes } from "./images/base64.js";
import type { LoadedImage } from "./images/load-image.js";

/**
 * Asks the person, through MCP elicitation, before an image leaves the machine. Fails closed: a client that
 * cannot ask, a decline, a cancel or no answer means no upload.
 */
export function createUploadConsent(server: Server) {
  return async (image: LoadedImage, signal: AbortSignal): Promise<void> => {
    if (server.getClientCapabilities()?.elicitation === undefined) {
      throw new ToolFailure(
        "consent_declined",
        "Uploads need the user's confirmation (DIDIT_CONFIRM_UPLOADS=true), but this client cannot ask (no MCP elicitation support). Nothing was uploaded.",
        "Use a client that supports elicitation, or have the operator unset DIDIT_CONFIRM_UPLOADS.",
      );
    }
    const name = image.label === "base64 input" ? "the image" : image.label;
    let answer: Awaited<ReturnType<Server["elicitInput"]>>;
    try {
      answer = await server.elicitInput(
        {
          message: `Upload ${name}, ${formatBytes(image.bytes.byteLength)}, to Didit for a liveness check? It costs one credit.`,
          requestedSchema: {
            type: "object",
            properties: { confirm: { type: "boolean", title: "Upload to Didit", default: false } },
            required: ["confirm"],
          },
        },
        { signal, timeout: 120_000 },
      );
    } catch (error) {
      throw new ToolFailure(
        "consent_declined",
        `The upload confirmation was not answered (${error instanceof Error ? error.message.slice(0, 120) : "error"}). Nothing was uploaded.`,
        "Ask the user to confirm the upload when the client prompts, then call again.",
      );
    }
    if (answer.action !== "accept" || answer.content?.confirm !== true) {
      throw new ToolFailure(
        "consent_declined",
        `The user did not confirm the upload (${answer.action}). Nothing was uploaded.`,
        "Do not retry unless the user asks you to; offer to use a different photo or stop here.",
      );
    }
  };
}
