import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { WARNING_CATALOG } from "../../warnings/catalog.js";
import { NEXT_ACTIONS, type NextAction } from "../../warnings/types.js";

const WHAT_TO_DO: Record<NextAction, string> = {
  proceed: "continue the flow; tell the person the check passed.",
  retake:
    "relay the summary (it says how to fix the photo), ask for a new selfie and check again; at most two retakes, then hand the case to a human with the request_id.",
  review:
    "do not decide yourself; tell the person the verification needs a manual review and pass the request_id to a human reviewer.",
  reject:
    "stop; do not retry automatically and do not tell the person which signal fired; relay only the summary.",
};

/** The walk-through an agent follows: check, interpret, act. The tag lists come from the catalog. */
export function livenessCheckPromptText(image?: string): string {
  const tagsFor = (action: NextAction) =>
    WARNING_CATALOG.filter((e) => e.next_action === action && e.applies_to.includes("liveness"))
      .map((e) => e.tag)
      .join(", ");
  const lines = [
    `Run a passive liveness check on ${image ? `the image \`${image}\`` : "the person's selfie"} and act on the verdict.`,
    "",
    "1. Call `check_passive_liveness` with exactly one of `image_path` (inside the server's allowed directories) or `image_base64`. It uploads the image to Didit and costs one credit, so call it once per photo, never in a loop on the same photo.",
    "2. If the result is a tool error (`Error [code]: ...`), it is not a verdict: follow its `Hint:` line.",
    "3. Otherwise read `next_action` and `summary` first:",
    ...NEXT_ACTIONS.map((action) => {
      const tags = tagsFor(action);
      return `   - \`${action}\`: ${WHAT_TO_DO[action]}${tags ? ` (tags: ${tags})` : ""}`;
    }),
    "4. For any warning you need to understand, call `explain_warning` with its `risk` tag; its `user_message` is safe to show the person.",
    "5. Report to the user in one or two sentences, using the `summary`. Do not disclose scores or fraud signals.",
  ];
  return lines.join("\n");
}

export function registerLivenessPrompt(server: McpServer): void {
  server.registerPrompt(
    "liveness_check",
    {
      title: "Check a selfie for liveness",
      description:
        "Walks an agent through a passive liveness check, reading the verdict, and the next action.",
      argsSchema: {
        image: z
          .string()
          .optional()
          .describe("The image path (inside the allowed directories) or a short description of where it is."),
      },
    },
    ({ image }) => ({
      messages: [{ role: "user", content: { type: "text", text: livenessCheckPromptText(image) } }],
    }),
  );
}
