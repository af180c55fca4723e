import { readFile } from "node:fs/promises";
import path from "node:path";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { ToolFailure, type UploadState } from "../core/errors.js";
import { packageRoot } from "../core/package-root.js";
import { THUMBNAIL_TOOL_NAME, type ThumbnailAnswer, VIEW_MIME_TYPE, VIEW_URI } from "../view/contract.js";
import {
  type LoadSharp,
  loadInstalledSharp,
  renderThumbnail,
  type Thumbnail,
} from "../view/render-thumbnail.js";
import { type ViewSupport, viewToolMeta } from "../view/support.js";
import { listedInputSchema, parseToolInput } from "./tools/tool.js";

/** Where the build (scripts/build-view.mjs) writes the view: read on the first resources/read, never at start-up. */
export const VIEW_HTML_PATH = ["dist", "view", "verdict.html"] as const;

/** Shared by every server of the process (HTTP builds one per request): the file is read once. */
let viewHtml: Promise<string> | undefined;

export function readViewHtml(): Promise<string> {
  viewHtml ??= readFile(path.join(packageRoot(), ...VIEW_HTML_PATH), "utf8").catch(() => {
    viewHtml = undefined;
    throw new Error(
      `The verdict view is not built (${VIEW_HTML_PATH.join("/")} is missing): run npm run build.`,
    );
  });
  return viewHtml;
}

const RESOURCE_META = { ui: { prefersBorder: true } };

export interface VerdictViewOptions {
  /** Test seam: the optional image library; default: sharp if installed. */
  loadSharp?: LoadSharp | undefined;
}

type Run = (tool: string, call: (upload: UploadState) => Promise<CallToolResult>) => Promise<CallToolResult>;

/**
 * The verdict view (MCP Apps): its HTML resource and the thumbnail tool only the view may call. Registered the way
 * the extension's registerAppResource and registerAppTool do (a test compares the listings), without importing its
 * server module, whose start-up cost (~20 ms of schema building) every server start would pay.
 */
export function registerVerdictView(
  server: McpServer,
  view: ViewSupport,
  run: Run,
  options: VerdictViewOptions = {},
): void {
  server.registerResource(
    "verdict-view",
    VIEW_URI,
    {
      title: "Verdict view",
      description:
        "The interactive view (MCP Apps) hosts show beside check_passive_liveness, verify_selfie, match_faces and precheck_face_image results: the verdict, the score against its threshold, each warning explained and the photo with the face box.",
      mimeType: VIEW_MIME_TYPE,
      _meta: RESOURCE_META,
    },
    async () => ({
      contents: [
        { uri: VIEW_URI, mimeType: VIEW_MIME_TYPE, text: await readViewHtml(), _meta: RESOURCE_META },
      ],
    }),
  );

  const loadSharp = options.loadSharp ?? loadInstalledSharp;
  server.registerTool(
    THUMBNAIL_TOOL_NAME,
    {
      title: "Face thumbnail for the verdict view",
      description:
        "For the verdict view only (MCP Apps hosts do not offer it to the model): a small JPEG of a photo a check loaded, named by the short-lived handle in that result's _meta. Agents have no use for it.",
      inputSchema: listedInputSchema(thumbnailInputSchema),
      outputSchema: thumbnailOutputSchema,
      annotations: {
        title: "Face thumbnail for the verdict view",
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
      _meta: viewToolMeta(["app"]),
    },
    (args: Record<string, unknown>) =>
      run(THUMBNAIL_TOOL_NAME, async () => thumbnailResult(view, loadSharp, args)),
  );
}

const thumbnailInputSchema = z.strictObject({
  handle: z.string().min(1).max(64).describe("The handle from a check result's _meta."),
});

const thumbnailOutputSchema = z.object({
  available: z.boolean().describe("True when the result's image content holds the JPEG."),
  width: z.number().nullable().describe("Width of the frame the face boxes are in, in pixels."),
  height: z.number().nullable().describe("Height of that frame, in pixels."),
  reason: z.string().optional().describe("Why there is no thumbnail, when there is none."),
});

async function thumbnailResult(
  view: ViewSupport,
  loadSharp: LoadSharp,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  const { handle } = parseToolInput(THUMBNAIL_TOOL_NAME, thumbnailInputSchema, args);
  const photo = view.store.find(view.scope, handle);
  if (!photo) {
    throw new ToolFailure(
      "invalid_input",
      "No photo is held under this handle: it is unknown, from another caller, or expired (handles last 10 minutes).",
      "The view shows the face box on a plain frame instead; run the check again for a new handle.",
    );
  }
  const sharp = await loadSharp();
  if (!sharp && !photo.thumbnail) {
    return answer({
      available: false,
      width: null,
      height: null,
      reason: "The optional image library (sharp) is not installed on the server.",
    });
  }
  if (!photo.thumbnail && sharp && photo.bytes) {
    photo.thumbnail = renderThumbnail(sharp, photo.bytes, photo.angle);
    // Once the thumbnail exists, the full photo is no longer held.
    photo.bytes = undefined;
  }
  const thumbnail = (await photo.thumbnail) as Thumbnail | undefined;
  if (!thumbnail)
    return answer({ available: false, width: null, height: null, reason: "The photo expired." });
  return {
    content: [
      { type: "image", data: Buffer.from(thumbnail.jpeg).toString("base64"), mimeType: "image/jpeg" },
    ],
    structuredContent: { available: true, width: thumbnail.width, height: thumbnail.height },
  };
}

function answer(value: ThumbnailAnswer): CallToolResult {
  return {
    content: [{ type: "text", text: value.reason ?? "No thumbnail." }],
    structuredContent: { ...value },
  };
}
