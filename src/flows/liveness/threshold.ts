import { ToolFailure } from "../../core/errors.js";

/**
 * Fractional digits a decline threshold may have. Every finite number from 0.000001 up prints in plain decimal
 * (String(1e-7) is "1e-7"), so a threshold that is exact at six places goes into the multipart field as written.
 */
export const MAX_THRESHOLD_DECIMALS = 6;

/** Why `value` cannot be sent as a 0-100 decline threshold in plain decimal, or undefined when it can. */
export function thresholdProblem(value: number): string | undefined {
  if (!Number.isFinite(value) || value < 0 || value > 100) return "must be a number from 0 to 100.";
  if (Number(value.toFixed(MAX_THRESHOLD_DECIMALS)) !== value) {
    return `must have at most ${MAX_THRESHOLD_DECIMALS} decimal places (Didit takes it as a plain decimal).`;
  }
  return undefined;
}

/** The threshold to send, refused with invalid_input (naming `field`) when it cannot be written as a plain decimal. */
export function validThreshold(
  value: number | undefined,
  field = "face_liveness_score_decline_threshold",
): number | undefined {
  if (value === undefined) return undefined;
  const problem = thresholdProblem(value);
  if (problem === undefined) return value;
  throw new ToolFailure(
    "invalid_input",
    `${field} ${problem}`,
    "Pass a score from 0 to 100 such as 30 or 42.5. Nothing was sent.",
  );
}
