import { checkTool } from "./check-passive-liveness.js";
import { explainTool } from "./explain-warning.js";
import { matchTool } from "./match-faces.js";
import { precheckTool } from "./precheck-face-image.js";
import type { Tool } from "./tool.js";
import { verifyTool } from "./verify-selfie.js";

/** Every tool this server offers, in the order clients list them. */
export const TOOLS: readonly Tool[] = [checkTool, explainTool, precheckTool, matchTool, verifyTool];

/** The tools that never upload an image to Didit, so never spend a credit: what `--tools free` serves. */
export const FREE_TOOLS: readonly Tool[] = [explainTool, precheckTool];

export const TOOL_NAMES: readonly string[] = TOOLS.map((tool) => tool.name);
