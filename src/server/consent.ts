import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { formatBytes } from "../core/byte-size.js";
import { ToolFailure } from "../core/errors.js";
import type { LoadedImage } from "../images/load-image.js";

/** Asks before an upload; throws consent_declined unless the person confirmed. */
export type UploadConsent = ReturnType<typeof createUploadConsent>;

/**
 * Asks the person, through MCP elicitation, before an image leaves the machine. Fails closed: a client that
 * cannot ask, a decline, a cancel or no answer means no upload.
 */
export function createUploadConsent(server: Server) {
  /** One confirmation covers every image of one tool call; `purpose` says what they are for and what it costs. */
  return async (
    image: LoadedImage | readonly LoadedImage[],
    signal: AbortSignal,
    purpose = "for a liveness check? It costs one credit",
  ): Promise<void> => {
    const images: readonly LoadedImage[] = Array.isArray(image) ? image : [image as LoadedImage];
    if (server.getClientCapabilities()?.elicitation === undefined) {
      throw new ToolFailure(
        "consent_declined",
        "Uploads need the user's confirmation (DIDIT_CONFIRM_UPLOADS=true), but this client cannot ask (no MCP elicitation support). Nothing was uploaded.",
        "Use a client that supports elicitation, or have the operator unset DIDIT_CONFIRM_UPLOADS.",
      );
    }
    const names = images.map(
      (one, i) =>
        `${one.label === "base64 input" ? (images.length > 1 ? `image ${i + 1}` : "the image") : one.label}, ${formatBytes(one.bytes.byteLength)}`,
    );
    let answer: Awaited<ReturnType<Server["elicitInput"]>>;
    try {
      answer = await server.elicitInput(
        {
          message: `Upload ${names.join(" and ")}, to Didit ${purpose}.`,
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
