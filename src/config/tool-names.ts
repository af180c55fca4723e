// The tools' names, below the tools themselves: --tools and DIDIT_TOOLS are checked against them without loading
// the tools (a test keeps server/tools/index.ts's TOOLS in step with this list).

export const CHECK_TOOL_NAME = "check_passive_liveness";
export const EXPLAIN_TOOL_NAME = "explain_warning";
export const PRECHECK_TOOL_NAME = "precheck_face_image";
export const MATCH_TOOL_NAME = "match_faces";
export const VERIFY_TOOL_NAME = "verify_selfie";

/** Every tool this server offers, in the order clients list them. */
export const TOOL_NAMES: readonly string[] = [
  CHECK_TOOL_NAME,
  EXPLAIN_TOOL_NAME,
  PRECHECK_TOOL_NAME,
  MATCH_TOOL_NAME,
  VERIFY_TOOL_NAME,
];

/** The tools that never upload an image to Didit, so never spend a credit: what `--tools free` serves. */
export const FREE_TOOL_NAMES: readonly string[] = [EXPLAIN_TOOL_NAME, PRECHECK_TOOL_NAME];
