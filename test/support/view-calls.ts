import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { SANDBOX_OUTCOMES } from "../../src/didit/sandbox-client.js";

/** The liveness outcomes of the sandbox (its match outcomes and failures aside), in its order. */
const LIVENESS_OUTCOMES = SANDBOX_OUTCOMES.filter(
  (outcome) => !/match|no_face_ref|rate_limited|upstream_error/.test(outcome),
);

/** The sandbox calls whose text the verdict view must leave byte-identical, one per outcome the view shows. */
export const BASELINE_CALLS: readonly { key: string; tool: string; args: Record<string, unknown> }[] = [
  ...LIVENESS_OUTCOMES.map((outcome) => ({
    key: `check_passive_liveness ${outcome}`,
    tool: "check_passive_liveness",
    args: { image_path: "live_silentface_T1.jpg", vendor_data: `sandbox:${outcome}` },
  })),
  {
    key: "check_passive_liveness approved threshold 95",
    tool: "check_passive_liveness",
    args: { image_path: "syn_astronaut.jpg", face_liveness_score_decline_threshold: 95 },
  },
  ...["match", "no_match", "no_face_ref", "match_review"].map((outcome) => ({
    key: `match_faces ${outcome}`,
    tool: "match_faces",
    args: {
      user_image_path: "live_silentface_T1.jpg",
      ref_image_path: "syn_astronaut.jpg",
      vendor_data: `sandbox:${outcome}`,
    },
  })),
  ...["approved", "spoof", "no_face", "no_match", "match_review", "blocklist"].map((outcome) => ({
    key: `verify_selfie ${outcome}`,
    tool: "verify_selfie",
    args: {
      user_image_path: "live_silentface_T1.jpg",
      ref_image_path: "syn_astronaut.jpg",
      vendor_data: `sandbox:${outcome}`,
    },
  })),
];

/** The text of a result with its two per-call values (a random request_id, the clock's created_at) fixed. */
export function stableText(result: CallToolResult): string {
  const text = result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
  return text
    .replace(/"request_id":"[^"]*"/g, '"request_id":"<id>"')
    .replace(/"created_at":"[^"]*"/g, '"created_at":"<at>"');
}
