import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Config } from "../config/config.js";
import { asToolFailure, createUploadState, toolErrorResult, type UploadState } from "../core/errors.js";
import { createInFlightLimit, type InFlightLimit } from "../core/in-flight.js";
import type { Logger } from "../core/log.js";
import { type CheckBudget, createCheckBudget } from "../core/rate-guard.js";
import { collectGarbageSoon } from "../core/reclaim-memory.js";
import type { Redact } from "../core/redact.js";
import type { DiditClient } from "../didit/client.js";
import { createAllowedDirsSource } from "../images/client-roots.js";
import { describeAllowedDirs } from "../images/path-policy.js";
import { createUrlPolicy } from "../images/url-policy.js";
import { createViewSupport } from "../view/support.js";
import { processThumbnailStore, type ThumbnailStore } from "../view/thumbnails.js";
import { createUploadConsent } from "./consent.js";
import { registerIdentityPrompt } from "./prompts/identity-check.js";
import { registerLivenessPrompt } from "./prompts/liveness-check.js";
import { registerWarningResources } from "./resources/warnings.js";
import { checkTool } from "./tools/check-passive-liveness.js";
import { explainTool } from "./tools/explain-warning.js";
import { FREE_TOOLS, TOOLS } from "./tools/index.js";
import { matchTool } from "./tools/match-faces.js";
import { precheckTool } from "./tools/precheck-face-image.js";
import { registerTool, type Tool, type ToolContext } from "./tools/tool.js";
import { verifyTool } from "./tools/verify-selfie.js";
import { registerVerdictView } from "./view.js";

export const SERVER_NAME = "didit-passive-liveness-mcp";

export interface ServerDeps {
  config: Config;
  /** Didit, or the sandbox responder; undefined without a key: the server still starts and lists its tools. */
  client: DiditClient | undefined;
  logger: Logger;
  redact: Redact;
  version: string;
  /** The bound on image tools in flight; tests pass their own to observe it. Default: the Didit pool size. */
  inFlight?: InFlightLimit;
  /** The checks budget (reserve all or none, release unused); default: this server's own per-minute budget. */
  checkBudget?: CheckBudget | undefined;
  /** Told how each tool call ended ("ok", "approved"/"declined", or the error code), for metrics and logs. */
  onToolResult?: ((event: ToolResultEvent) => void) | undefined;
  /** Who is calling (the HTTP token id): the verdict view's photo handles are found only by the same caller. */
  callerId?: string | undefined;
  /** Where the verdict view's photos are held; default: the process's one store. */
  thumbnails?: ThumbnailStore | undefined;
}

export interface ToolResultEvent {
  tool: string;
  outcome: string;
  durationMs: number;
}

export function createServer(deps: ServerDeps): McpServer {
  const { config } = deps;
  const server = new McpServer(
    { name: SERVER_NAME, title: "Didit Passive Liveness", version: deps.version },
    { instructions: serverInstructions(config) },
  );

  const dirs = createAllowedDirsSource(server.server, config.allowedDirs, deps.logger);
  // One budget and one consent for every tool that calls Didit: the cost guard counts checks, not tools.
  const budget = deps.checkBudget ?? createCheckBudget(config.maxChecksPerMinute);
  const view = createViewSupport({
    store: deps.thumbnails ?? processThumbnailStore(),
    scope: deps.callerId ?? "local",
    thumbnails: config.viewThumbnails,
  });
  const context: ToolContext = {
    allowedDirs: dirs.current,
    allowHardlinks: config.allowHardlinks,
    urlPolicy: createUrlPolicy(config.allowedUrlHosts, config.urlAllowOnly),
    client: deps.client,
    sandbox: config.sandbox,
    // One bound for every tool that loads an image, so a burst of either cannot hold more images than this.
    inFlight: deps.inFlight ?? createInFlightLimit(undefined, { onBurstOver: () => collectGarbageSoon() }),
    reserveCheck: budget,
    releaseCheck: budget.release,
    confirmUpload: config.confirmUploads ? createUploadConsent(server.server) : undefined,
    precheckEngine: config.precheckModelsDir ? { modelsDir: config.precheckModelsDir } : undefined,
    view,
  };
  const run = toolGuard(deps);
  const enabled = enabledTools(config);
  for (const tool of enabled) registerTool(server, tool, context, run);
  // The view and its thumbnail tool come with any tool that shows it; neither uploads anything.
  if (enabled.some((tool) => VIEW_TOOLS.includes(tool))) registerVerdictView(server, view, run);
  // The warning catalog is offline, so it stays; a prompt walks an agent through its paid tool, so it needs it.
  registerWarningResources(server);
  if (enabled.includes(checkTool)) registerLivenessPrompt(server);
  if (enabled.includes(verifyTool)) registerIdentityPrompt(server);
  return server;
}

/** The tools this server lists and serves: the DIDIT_TOOLS / --tools selection, or all of them. */
/** The tools whose results the verdict view shows. */
const VIEW_TOOLS: readonly Tool[] = [checkTool, verifyTool, matchTool, precheckTool];

function enabledTools(config: Config): readonly Tool[] {
  const { tools } = config;
  return tools === undefined ? TOOLS : TOOLS.filter((tool) => tools.includes(tool.name));
}

export function serverInstructions(config: Config): string {
  const enabled = new Set(enabledTools(config).map((tool) => tool.name));
  const has = (...names: string[]) => names.some((name) => enabled.has(name));
  const off = TOOLS.filter((tool) => !enabled.has(tool.name)).map((tool) => tool.name);
  const paid = TOOLS.filter((tool) => !FREE_TOOLS.includes(tool) && enabled.has(tool.name));
  const selection =
    off.length === 0
      ? ""
      : `${paid.length === 0 ? "NO-SPEND MODE: only" : "Only"} ${[...enabled].join(", ")} ${enabled.size === 1 ? "is" : "are"} enabled on this server; ${off.join(", ")} ${off.length === 1 ? "is" : "are"} not${paid.length === 0 ? ", so nothing is uploaded to Didit and no credit is spent" : ""}. `;
  return (
    selection +
    (config.sandbox
      ? "SANDBOX MODE: checks are answered offline with mocked outcomes (choose one with vendor_data 'sandbox:<outcome>'); they are not real verdicts and nothing is uploaded. "
      : "") +
    "Checks whether a face photo shows a live person (not a photo of a photo, a screen or a mask) with Didit's Passive Liveness API. " +
    (has(checkTool.name)
      ? "check_passive_liveness uploads the image to Didit and costs one credit per answered check; act on its next_action (proceed, retake, review, reject). "
      : "") +
    (has(verifyTool.name, matchTool.name)
      ? "To verify a selfie against an ID photo use verify_selfie: liveness first, then, only if it passes, a face match (uploads both images; two credits, one when the match is skipped); match_faces runs the face match alone (one credit). "
      : "") +
    (has(explainTool.name, precheckTool.name)
      ? "explain_warning explains a warning tag offline; precheck_face_image checks a photo on this machine for free (faces, light, sharpness) before you spend a credit, when its optional engine is installed. "
      : "") +
    (config.allowedDirs.length > 0
      ? `Images given by path must be inside the allowed directories (${describeAllowedDirs(config.allowedDirs)}); otherwise pass image_base64 or image_url (an https link).`
      : "No image directories are configured: images given by path must be inside the client's MCP roots, if it shares any; otherwise pass image_base64 or image_url (an https link).")
  );
}

/**
 * Every handler's failure becomes that call's tool error, and no text leaves with a secret in it. The result is
 * serialised and redacted inside the try, with the call's upload state, so a failure there after a paid upload says
 * the check may have been billed.
 */
function toolGuard(deps: ServerDeps) {
  return async (
    tool: string,
    call: (upload: UploadState) => Promise<CallToolResult>,
  ): Promise<CallToolResult> => {
    const started = performance.now();
    const upload = createUploadState();
    let outcome = "internal_error";
    try {
      const result = await call(upload);
      outcome = resultOutcome(result);
      return redactResult(result, deps.redact);
    } catch (error) {
      const failure = asToolFailure(error, upload);
      if (failure.code === "internal_error") {
        deps.logger.log("error", error instanceof Error ? (error.stack ?? error.message) : String(error));
      }
      outcome = failure.code;
      return redactResult(toolErrorResult(failure), deps.redact);
    } finally {
      deps.onToolResult?.({ tool, outcome, durationMs: performance.now() - started });
    }
  };
}

/** A bounded label: the verdict for checks, "ok" for the rest; never anything from the input. */
function resultOutcome(result: CallToolResult): string {
  if (result.isError) return "error";
  const content = result.structuredContent as { status?: unknown; identity_verified?: unknown } | undefined;
  if (typeof content?.identity_verified === "boolean")
    return content.identity_verified ? "approved" : "declined";
  const status = content?.status;
  return status === "Approved" || status === "Declined" ? status.toLowerCase() : "ok";
}

function redactResult(result: CallToolResult, redact: Redact): CallToolResult {
  const json = JSON.stringify(result);
  const clean = redact(json);
  return clean === json ? result : (JSON.parse(clean) as CallToolResult);
}
