import { truncate } from "../../core/errors.js";
import type { DiditWarning } from "../../didit/response-schema.js";
import { metadataProblem } from "./metadata.js";
import type { LivenessWarning } from "./result.js";
import { ADDITIONAL_DATA_LIMITS } from "./result.js";

/** Didit's warnings as results carry them, in liveness and face-match results alike. */
export function warningsOf(warnings: readonly DiditWarning[] | null | undefined): LivenessWarning[] {
  return (warnings ?? []).map((w) => ({
    risk: w.risk,
    log_type: w.log_type ?? "information",
    short_description: w.short_description ?? "",
    long_description: w.long_description ?? "",
    feature: w.feature ?? null,
    additional_data: boundedAdditionalData(w.additional_data),
  }));
}

/** additional_data within ADDITIONAL_DATA_LIMITS, or its top-level scalar fields; null when it is not an object. */
export function boundedAdditionalData(value: unknown): Record<string, unknown> | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const limits = ADDITIONAL_DATA_LIMITS;
  if (metadataProblem(value, limits) === undefined && JSON.stringify(value).length <= limits.maxJsonChars) {
    return value as Record<string, unknown>;
  }
  const kept: [string, unknown][] = [];
  // for-in with an early exit: a value with a million keys costs no more than the fields kept.
  for (const key in value) {
    if (kept.length >= limits.fallbackFields) break;
    if (!Object.hasOwn(value, key) || key.length > limits.fallbackKeyChars) continue;
    const field = (value as Record<string, unknown>)[key];
    if (typeof field === "string") kept.push([key, truncate(field, limits.fallbackTextChars)]);
    else if (field === null || typeof field === "boolean" || Number.isFinite(field)) kept.push([key, field]);
  }
  // fromEntries defines own properties: a "__proto__" key stays a key, never a prototype.
  return Object.fromEntries(kept);
}
