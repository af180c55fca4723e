/** The marker lines that enclose the generated reference in README.md. */
export declare const START_MARKER: string;
export declare const END_MARKER: string;
/** Absolute path of the README.md the script reads and writes (the compact list). */
export declare const README_PATH: string;
/** Absolute path of docs/tools.md (the full reference). */
export declare const TOOLS_DOC_PATH: string;

/** Renders the full tools/resources/prompts reference from the live server definitions in dist/. */
export declare function renderReference(): Promise<string>;

/** Renders the compact list for README.md (one line per tool; resources and prompts in one sentence). */
export declare function renderSummary(): Promise<string>;

/** The text between the markers (exclusive), or undefined when they are missing or out of order. */
export declare function extractBlock(markdown: string): string | undefined;

/** Replaces the text between the markers with the given reference. */
export declare function replaceBlock(markdown: string, reference: string): string;

/** The live server's tools, resources, resource templates and prompts, as an MCP client lists them. */
export declare function listDefinitions(): Promise<{
  tools: { name: string; description?: string; _meta?: Record<string, unknown> }[];
  resources: { uri: string }[];
  resourceTemplates: { uriTemplate: string }[];
  prompts: { name: string }[];
}>;

/** The tools a model is offered: all but those only an MCP App view may call (`_meta.ui.visibility: ["app"]`). */
export declare function modelVisibleTools<T extends { name: string; _meta?: Record<string, unknown> }>(
  tools: T[],
): T[];
