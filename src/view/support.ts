import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { readImageDimensions } from "../images/dimensions.js";
import type { ImageObserver, LoadedImage } from "../images/load-image.js";
import { type ImageRole, VIEW_META_KEY, VIEW_URI, type ViewImage, type ViewMeta } from "./contract.js";
import { jpegOrientation, swapsSides } from "./orientation.js";
import type { ThumbnailStore } from "./thumbnails.js";

/** Didit's own default decline threshold, for liveness and face match alike: applied when a call gives none. */
const DIDIT_DEFAULT_THRESHOLD = 30;

/** What the server registers and what each view-enabled tool call uses. One per server. */
export interface ViewSupport {
  /** `_meta` of a tool with a view: the extension's nested key and its older flat one, as registerAppTool sets. */
  readonly toolMeta: Record<string, unknown>;
  readonly store: ThumbnailStore;
  /** The caller handles are scoped to (the token id over HTTP; one local caller on stdio). */
  readonly scope: string;
  /** One call: observe the photos it loads, then add the view's `_meta` to its result. */
  startCall(args: unknown): ViewCall;
}

export interface ViewCall {
  onImageLoaded: ImageObserver;
  attach(result: CallToolResult): CallToolResult;
}

export interface ViewOptions {
  store: ThumbnailStore;
  scope: string;
  /** DIDIT_VIEW_THUMBNAILS: false holds no photo and hands out no handle. */
  thumbnails: boolean;
}

/** `_meta` of a tool shown in the view (with `visibility` for a tool only the view may call). */
export function viewToolMeta(visibility?: readonly ("model" | "app")[]): Record<string, unknown> {
  return {
    ui: visibility ? { resourceUri: VIEW_URI, visibility: [...visibility] } : { resourceUri: VIEW_URI },
    "ui/resourceUri": VIEW_URI,
  };
}

export function createViewSupport(options: ViewOptions): ViewSupport {
  const toolMeta = viewToolMeta();
  return {
    toolMeta,
    store: options.store,
    scope: options.scope,
    startCall(args) {
      const loaded: { role: ImageRole; image: LoadedImage }[] = [];
      return {
        onImageLoaded: (role, image) => loaded.push({ role, image }),
        attach(result) {
          // A tool error carries nothing for the view; the text result is left exactly as it was.
          if (result.isError || !result.structuredContent) return result;
          const structured = result.structuredContent;
          const images = loaded.map(({ role, image }): ViewImage => {
            const angle = bestAngle(structured, role);
            const size = readImageDimensions(image.bytes);
            // Upright (EXIF orientation applied), then turned by best_angle: the frame the boxes are in.
            const turned = swapsSides(jpegOrientation(image.bytes)) !== (angle === 90 || angle === 270);
            return {
              role,
              width: size ? (turned ? size.height : size.width) : null,
              height: size ? (turned ? size.width : size.height) : null,
              thumbnail: options.thumbnails
                ? options.store.hold(options.scope, { bytes: image.bytes, angle })
                : null,
            };
          });
          const meta: ViewMeta = { images, thresholds: thresholdsOf(args) };
          return { ...result, _meta: { ...result._meta, [VIEW_META_KEY]: meta } };
        },
      };
    },
  };
}

function thresholdsOf(args: unknown): ViewMeta["thresholds"] {
  const given = (args ?? {}) as Record<string, unknown>;
  const pick = (value: unknown) => (typeof value === "number" ? value : DIDIT_DEFAULT_THRESHOLD);
  return {
    liveness: pick(given.face_liveness_score_decline_threshold),
    face_match: pick(given.face_match_score_decline_threshold),
  };
}

/** The rotation the result reports for a photo (Didit's or the pre-check's best_angle); 0 when it says none. */
function bestAngle(structured: Record<string, unknown>, role: ImageRole): number {
  const at = (value: unknown, ...path: string[]): unknown =>
    path.reduce<unknown>(
      (v, key) => (v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined),
      value,
    );
  const candidates =
    role === "image"
      ? [at(structured, "best_angle")]
      : [
          at(structured, `${role}_image`, "best_angle"),
          at(structured, "face_match", `${role}_image`, "best_angle"),
          role === "user" ? at(structured, "liveness", "best_angle") : undefined,
        ];
  const angle = candidates.find((value) => typeof value === "number");
  return angle === 90 || angle === 180 || angle === 270 ? angle : 0;
}
