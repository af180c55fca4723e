import { checkTool } from "./check-passive-liveness.js";
import { explainTool } from "./explain-warning.js";
import { matchTool } from "./match-faces.js";
import { precheckTool } from "./precheck-face-image.js";
import type { Tool } from "./tool.js";
import { verifyTool } from "./verify-selfie.js";

/** Every tool this server offers, in the order clients list them. */
export const TOOLS: readonly Tool[] = [checkTool, explainTool, precheckTool, matchTool, verifyTool];

export const TOOL_NAMES: readonly string[] = TOOLS.map((tool) => tool.name);
