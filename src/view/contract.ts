// What the server and the verdict view (view/verdict.ts, built into dist/view/verdict.html) agree on. Imported by
// both sides, so it holds constants and types only: nothing here may touch Node or the DOM.

/** The one MCP Apps resource: every tool with a view names it in `_meta.ui.resourceUri`. */
export const VIEW_URI = "ui://didit-passive-liveness/verdict.html";

/** The MCP Apps MIME type (the extension's RESOURCE_MIME_TYPE; a unit test holds the two equal). */
export const VIEW_MIME_TYPE = "text/html;profile=mcp-app";

/** The key of a result's `_meta` entry for the view: never in structuredContent, so never in the model's context. */
export const VIEW_META_KEY = "io.github.didit-community/view";

/** The tool only the view calls (`_meta.ui.visibility: ["app"]`): a thumbnail for a handle from VIEW_META_KEY. */
export const THUMBNAIL_TOOL_NAME = "view_face_thumbnail";

/** Longest side of a thumbnail, in pixels. */
export const THUMBNAIL_MAX_SIDE = 320;

/** Which photo of the call: the one photo of a single-image tool, or the selfie and the reference of a pair. */
export type ImageRole = "image" | "user" | "ref";

/** One photo the server loaded for the call. */
export interface ViewImage {
  role: ImageRole;
  /** The size in the file's header, upright (EXIF) and turned by best_angle; null when it cannot be read. */
  width: number | null;
  height: number | null;
  /** A random, short-lived handle for THUMBNAIL_TOOL_NAME; null when thumbnails are off. */
  thumbnail: string | null;
}

/** What a result's `_meta[VIEW_META_KEY]` holds. */
export interface ViewMeta {
  images: ViewImage[];
  /** The decline thresholds the call applied (Didit's default when the call gave none). */
  thresholds: { liveness: number; face_match: number };
}

/** THUMBNAIL_TOOL_NAME's structuredContent; with `available`, the JPEG is the result's image content. */
export interface ThumbnailAnswer {
  available: boolean;
  /** The frame the face boxes are in: the upright photo turned by best_angle (null when unavailable). */
  width: number | null;
  height: number | null;
  /** Why there is no thumbnail, when there is none. */
  reason?: string | undefined;
}
