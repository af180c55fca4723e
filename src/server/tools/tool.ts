import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
  ToolAnnotations,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { ToolFailure, type UploadState } from "../../core/errors.js";
import type { FaceFlowDeps } from "../../flows/face-match/match.js";
import type { ImageObserver } from "../../images/load-image.js";
import type { EngineLocations } from "../../precheck/loader.js";
import type { ViewSupport } from "../../view/support.js";
import type { UploadConsent } from "../consent.js";

/** What every tool's handler may use: one set per server, so budget, consent and the in-flight bound are shared. */
export interface ToolContext extends Omit<FaceFlowDeps, "sandbox" | "confirmUpload"> {
  /** True when `client` is the offline sandbox responder: results say they are not real verdicts. */
  sandbox: boolean;
  /** Asks the person before an upload (DIDIT_CONFIRM_UPLOADS); undefined when no confirmation is needed. */
  confirmUpload?: UploadConsent | undefined;
  /** Where the on-device pre-check engine and models are; default: installed next to the server. */
  precheckEngine?: EngineLocations | undefined;
  /** The verdict view (src/view/): tools with `view` list it and their results carry its _meta. */
  view?: ViewSupport | undefined;
}

/** One tool call as a handler sees it, whoever made it (an MCP client or the CLI). */
export interface ToolCall {
  signal: AbortSignal;
  onProgress: (message: string) => void;
  /** Set when an upload starts, so a later failure says the call may have been billed. */
  upload: UploadState;
  /** Told of each photo the call loads, for the verdict view's thumbnail; unset when there is no view. */
  onImageLoaded?: ImageObserver | undefined;
}

/** The spec of one tool: its contract (schemas, annotations, description) and its handler factory. */
export interface ToolSpec<I extends z.ZodObject, O extends z.ZodObject> {
  name: string;
  title: string;
  /** The description clients list; tools that call Didit say first when the server only mocks them. */
  describe(mode: { sandbox: boolean }): string;
  inputSchema: I;
  outputSchema: O;
  annotations: Omit<ToolAnnotations, "title">;
  /** Shown in the verdict view (MCP Apps) by hosts that render it. */
  view?: boolean;
  createHandler(context: ToolContext): (input: z.output<I>, call: ToolCall) => Promise<z.output<O>>;
}

/** A tool ready to register: the handler takes raw arguments and answers a checked tool result. */
export interface Tool {
  name: string;
  title: string;
  describe(mode: { sandbox: boolean }): string;
  inputSchema: z.ZodObject;
  outputSchema: z.ZodObject;
  annotations: ToolAnnotations;
  view?: boolean | undefined;
  createHandler(context: ToolContext): (args: unknown, call: ToolCall) => Promise<CallToolResult>;
}

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Validation happens here, inside the handler, not in the SDK: its schema errors are bare text whose wording it
 * owns, while ours are `Error [invalid_input]` with a hint. The output is checked here too, where the caller still
 * knows whether an upload started (a mismatch then says "may have been billed").
 */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(spec: ToolSpec<I, O>): Tool {
  return {
    ...spec,
    annotations: { title: spec.title, ...spec.annotations },
    createHandler(context) {
      const handle = spec.createHandler(context);
      return async (args, call) => {
        const input = parseToolInput(spec.name, spec.inputSchema, args);
        return jsonResult(spec.outputSchema, await handle(input, call));
      };
    },
  };
}

const SANDBOX_NOTICE =
  "SANDBOX MODE: this server answers with mocked offline results; nothing is uploaded and no credit is used. ";

/** The description of a tool that calls Didit: in sandbox mode it says first that its results are mocked. */
export function paidToolDescription(description: string): ToolSpec<z.ZodObject, z.ZodObject>["describe"] {
  return ({ sandbox }) => (sandbox ? SANDBOX_NOTICE + description : description);
}

export function parseToolInput<I extends z.ZodObject>(tool: string, schema: I, args: unknown): z.output<I> {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message,
  );
  throw new ToolFailure(
    "invalid_input",
    `Invalid arguments for ${tool}: ${problems.join("; ")}`,
    "Fix the named argument(s) to match the tool's input schema (see tools/list) and call again.",
  );
}

/** A tool's result: the output checked against its schema, as JSON text and as structuredContent. */
export function jsonResult<O extends z.ZodObject>(schema: O, value: z.output<O>): CallToolResult {
  schema.parse(value);
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
}

const standIns = new WeakMap<z.ZodObject, z.ZodObject>();

/**
 * What the SDK validates arguments with: any object passes (the handler validates), while tools/list still shows
 * the tool's real input schema, converted as the SDK converts schemas (a test compares the two listings). Made
 * once per schema: HTTP mode builds a server per request, and the conversion costs ~2 ms for the five tools.
 */
export function listedInputSchema(schema: z.ZodObject): z.ZodObject {
  let standIn = standIns.get(schema);
  if (!standIn) {
    const { $schema: _, ...jsonSchema } = z.toJSONSchema(schema, { target: "draft-7", io: "input" });
    standIn = z.looseObject({}).meta(jsonSchema);
    standIns.set(schema, standIn);
  }
  return standIn;
}

/** Sends notifications/progress when the client asked for them with a progress token; otherwise a no-op. */
export function progressReporter(extra: ToolExtra): (message: string) => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => {};
  let step = 0;
  return (message) => {
    step += 1;
    extra
      .sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress: step, message },
      })
      .catch(() => {});
  };
}

/** Registers a tool the way every server here does; `run` wraps each call (error results, redaction, metrics). */
export function registerTool(
  server: McpServer,
  tool: Tool,
  context: ToolContext,
  run: (tool: string, call: (upload: UploadState) => Promise<CallToolResult>) => Promise<CallToolResult>,
): void {
  const handle = tool.createHandler(context);
  const view = tool.view ? context.view : undefined;
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.describe({ sandbox: context.sandbox }),
      inputSchema: listedInputSchema(tool.inputSchema),
      outputSchema: tool.outputSchema,
      annotations: tool.annotations,
      ...(view && { _meta: view.toolMeta }),
    },
    (args: Record<string, unknown>, extra: ToolExtra) =>
      run(tool.name, async (upload) => {
        const viewCall = view?.startCall(args);
        const call = { signal: extra.signal, onProgress: progressReporter(extra), upload };
        const result = await handle(args, { ...call, onImageLoaded: viewCall?.onImageLoaded });
        return viewCall ? viewCall.attach(result) : result;
      }),
  );
}
