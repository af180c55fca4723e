import { expect } from "vitest";
import { modelVisibleTools } from "../../scripts/render-tools-reference.mjs";

/**
 * What `--tools free` / `DIDIT_TOOLS=free` lists: the model is offered the two tools that never upload; the verdict
 * view (precheck_face_image has one) adds its app-only thumbnail tool.
 */
export function expectFreeToolListing(tools: { name: string; _meta?: Record<string, unknown> }[]): void {
  expect(
    modelVisibleTools(tools)
      .map((t) => t.name)
      .sort(),
  ).toEqual(["explain_warning", "precheck_face_image"]);
  expect(tools.map((t) => t.name).sort()).toEqual([
    "explain_warning",
    "precheck_face_image",
    "view_face_thumbnail",
  ]);
}
