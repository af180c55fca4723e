import type { DiditClient, LivenessParams } from "../didit/client.js";
import { ToolFailure } from "../errors.js";
import { formatBytes } from "../images/base64.js";
import { type ImageInput, type LoadedImage, loadImage } from "../images/load-image.js";
import { assessLiveness, type LivenessAssessment } from "./assess.js";

const MAX_METADATA_JSON_CHARS = 64 * 1024;

export interface LivenessCheckRequest extends ImageInput, LivenessParams {
  include_face_attributes?: boolean | undefined;
}

export interface LivenessCheckDeps {
  /** The directories image_path may read from. */
  allowedDirs: () => Promise<readonly string[]>;
  /** Read image files with more than one hard link (--allow-hardlinks). */
  allowHardlinks?: boolean | undefined;
  /** Undefined when no API key is configured (and no sandbox). */
  client: DiditClient | undefined;
  /** True when `client` is the offline sandbox responder: results say they are not real verdicts. */
  sandbox?: boolean;
  /** Throws rate_limited when the per-process budget is spent. */
  reserveCheck?: () => void;
  /** Asks the user before an upload when consent is required; throws consent_declined otherwise. */
  confirmUpload?: ((image: LoadedImage, signal: AbortSignal) => Promise<void>) | undefined;
}

export interface CheckCall {
  signal?: AbortSignal | undefined;
  onProgress?: ((message: string) => void) | undefined;
}

/**
 * The one liveness flow shared by the MCP tool and the CLI: validate the image, ask consent, spend budget, call
 * Didit, assess. Nothing leaves the machine before the image and every field have been validated.
 */
export async function runLivenessCheck(
  deps: LivenessCheckDeps,
  request: LivenessCheckRequest,
  call: CheckCall = {},
): Promise<LivenessAssessment> {
  if (!deps.client) throw noClientFailure();
  call.onProgress?.("Validating the image");
  const image = await loadImage(request, {
    allowedDirs: await deps.allowedDirs(),
    allowHardlinks: deps.allowHardlinks,
  });
  const params: LivenessParams = {
    face_liveness_score_decline_threshold: request.face_liveness_score_decline_threshold,
    rotate_image: request.rotate_image,
    save_api_request: request.save_api_request,
    vendor_data: request.vendor_data,
    metadata: validMetadata(request.metadata),
  };
  if (deps.confirmUpload) await deps.confirmUpload(image, call.signal ?? new AbortController().signal);
  deps.reserveCheck?.();
  const response = await deps.client.checkPassiveLiveness(image, params, call);
  const assessment = assessLiveness(response, {
    includeFaceAttributes: request.include_face_attributes ?? false,
  });
  if (deps.sandbox) {
    assessment.sandbox = true;
    assessment.summary = `[Sandbox: mocked result, not a real verdict] ${assessment.summary}`;
  }
  return assessment;
}

/** Shared with the face-match flows: the same 64 KB bound on every call that sends metadata. */
export function validMetadata(
  metadata: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (metadata === undefined) return undefined;
  const size = JSON.stringify(metadata).length;
  if (size > MAX_METADATA_JSON_CHARS) {
    throw new ToolFailure(
      "invalid_input",
      `metadata is ${formatBytes(size)} as JSON, over the 64 KB this server sends.`,
      "Keep metadata to a few identifying fields; store bulky data on your side keyed by request_id.",
    );
  }
  return metadata;
}

/** No key and no sandbox: every flow that calls Didit refuses the same way. */
export function noClientFailure(): ToolFailure {
  return new ToolFailure(
    "not_configured",
    "No Didit API key is configured, so no check can be made.",
    "Set DIDIT_API_KEY in the server's environment (get a key from the Didit Business Console, API & Webhooks) and restart the server; or start it with --sandbox (DIDIT_SANDBOX=1) for mocked, offline results.",
  );
}
