import { expect } from "vitest";
import { ToolFailure } from "../../src/core/errors.js";

/** The ToolFailure a function throws; the test fails if it throws nothing or something else. */
export function failureOf(fn: () => unknown): ToolFailure {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "expected a ToolFailure to be thrown").toBeInstanceOf(ToolFailure);
  return thrown as ToolFailure;
}

/** The ToolFailure a promise rejects with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<ToolFailure> {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "expected a ToolFailure to be thrown").toBeInstanceOf(ToolFailure);
  return thrown as ToolFailure;
}

/** The documented warning tags (11 liveness, 2 face match), written out so tests do not trust the catalog they check. */
export const DOCUMENTED_TAGS = [
  "NO_FACE_DETECTED",
  "LIVENESS_FACE_ATTACK",
  "LOW_LIVENESS_SCORE",
  "FACE_IN_BLOCKLIST",
  "POSSIBLE_FACE_IN_BLOCKLIST",
  "MULTIPLE_FACES_DETECTED",
  "DUPLICATED_FACE",
  "POSSIBLE_DUPLICATED_FACE",
  "LOW_FACE_QUALITY",
  "LOW_FACE_LUMINANCE",
  "HIGH_FACE_LUMINANCE",
  "LOW_FACE_MATCH_SIMILARITY",
  "NO_REFERENCE_IMAGE",
];
