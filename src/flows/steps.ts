// The steps every flow shares (liveness, face match, verify selfie): the in-flight slot, the sandbox label, the
// missing-client refusal, and how actions and advice combine.
import { asToolFailure, createUploadState, ToolFailure, type UploadState } from "../core/errors.js";
import type { InFlightLimit } from "../core/in-flight.js";
import { apiKeyHint } from "../core/install-kind.js";
import { findWarning } from "../warnings/catalog.js";
import type { NextAction } from "../warnings/types.js";

/** Labels a sandboxed result so nobody mistakes it for a verdict. */
export const SANDBOX_LABEL = "[Sandbox: mocked result, not a real verdict]";

export function markSandbox<T extends { summary: string; sandbox?: boolean | undefined }>(
  result: T,
  sandbox?: boolean,
): T {
  if (sandbox) {
    result.sandbox = true;
    result.summary = `${SANDBOX_LABEL} ${result.summary}`;
  }
  return result;
}

/** Holds one in-flight slot for the whole flow, and turns a failure of ours after an upload into a billed hint. */
export async function withImageSlot<T>(
  deps: { inFlight?: InFlightLimit | undefined },
  call: { signal?: AbortSignal | undefined; upload?: UploadState | undefined },
  run: (upload: UploadState) => Promise<T>,
): Promise<T> {
  const release = deps.inFlight ? await deps.inFlight.acquire(call.signal) : undefined;
  const upload = call.upload ?? createUploadState();
  try {
    return await run(upload);
  } catch (error) {
    throw asToolFailure(error, upload);
  } finally {
    release?.();
  }
}

/** No key and no sandbox: every flow that calls Didit refuses the same way. */
export function noClientFailure(): ToolFailure {
  return new ToolFailure(
    "not_configured",
    "No Didit API key is configured, so no check can be made.",
    apiKeyHint(),
  );
}

const SEVERITY: Record<NextAction, number> = { proceed: 0, retake: 1, review: 2, reject: 3 };

/** The stricter of two actions: reject > review > retake > proceed. */
export function stricterAction(a: NextAction, b: NextAction): NextAction {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/** The catalog's advice for the first warning that calls for a retake, lower-cased to follow a colon. */
export function retakeAdvice(warnings: readonly { risk: string }[], fallback: string): string {
  const first = warnings
    .map((w) => findWarning(w.risk))
    .find((entry) => entry?.next_action === "retake" && entry.user_message);
  return lowerFirst(first?.user_message ?? fallback);
}

export function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
