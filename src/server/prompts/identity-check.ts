import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { tagsFor } from "../../warnings/catalog.js";

/** The combined walk-through (Didit's "liveness + face match" workflow) with our tools; tags come from the catalog. */
export function identityCheckPromptText(selfie?: string, reference?: string): string {
  const lines = [
    `Verify that ${selfie ? `the selfie \`${selfie}\`` : "the person's selfie"} shows a live person and matches ${reference ? `the reference \`${reference}\`` : "the portrait on their ID document"}, and act on the verdict.`,
    "",
    "1. Call `verify_selfie` once with the selfie as `user_image_path` (or `user_image_base64`) and the ID portrait as `ref_image_path` (or `ref_image_base64`). It runs Didit's liveness check first and, only if that is Approved, the face match: two credits for a full verification, one when the liveness check fails (the match is then skipped and `face_match_skipped_reason` says why). Never call it in a loop on the same photos.",
    "2. If the result is a tool error (`Error [code]: ...`), it is not a verdict: follow its `Hint:` line. A failure after the liveness step says a credit was already used; to retry only the second step call `match_faces` with the same two images.",
    "3. Otherwise read `identity_verified`, `next_action` (the stricter of the two results) and `summary`:",
    "   - `proceed` with identity_verified true: continue; tell the person they are verified.",
    "   - `retake`: relay the summary (it says which photo to take again); at most two retakes, then hand the case to a human.",
    "   - `review`: do not decide yourself; pass both request_ids (liveness.request_id, face_match.request_id) to a human reviewer.",
    "   - `reject`: stop; do not retry automatically and do not tell the person which signal fired.",
    `4. Liveness tags: ${tagsFor("liveness").join(", ")}. Face-match tags: ${tagsFor("face_match").join(", ")}. Call \`explain_warning\` with any \`risk\` tag; its \`user_message\` is safe to show the person.`,
    "5. Optional: with `precheck: true` both photos are checked on this machine first (needs the on-device engine) and nothing is uploaded if either is not ready.",
    "6. Report to the person in one or two sentences using the `summary`. Do not disclose scores or fraud signals.",
  ];
  return lines.join("\n");
}

export function registerIdentityPrompt(server: McpServer): void {
  server.registerPrompt(
    "identity_check",
    {
      title: "Verify a selfie against an ID photo",
      description:
        "Walks an agent through Didit's combined flow: liveness on the selfie, then a face match against the ID portrait, and what to do with the verdict.",
      argsSchema: {
        selfie: z
          .string()
          .optional()
          .describe("The selfie's path (inside the allowed directories) or where it is."),
        reference: z
          .string()
          .optional()
          .describe("The ID portrait's path (inside the allowed directories) or where it is."),
      },
    },
    ({ selfie, reference }) => ({
      messages: [
        { role: "user", content: { type: "text", text: identityCheckPromptText(selfie, reference) } },
      ],
    }),
  );
}
