import { realpath, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { RootsListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../core/log.js";

const ROOTS_TIMEOUT_MS = 2_000;

export interface AllowedDirsSource {
  /** The directories image_path may read from right now (real paths). */
  current(): Promise<readonly string[]>;
  /** Where the current directories come from, for messages. */
  origin(): "configured" | "client roots" | "none";
}

/**
 * Configured directories always win. Without any, the client's `file://` roots are used when it supports MCP
 * roots: asked once after initialization with a short timeout, and asked again on roots/list_changed.
 */
export function createAllowedDirsSource(
  server: Server,
  configured: readonly string[],
  logger: Logger,
): AllowedDirsSource {
  if (configured.length > 0) return { current: async () => configured, origin: () => "configured" };

  let roots: Promise<readonly string[]> | undefined;
  const refresh = () => {
    roots = fetchRoots(server, logger);
  };
  const supportsRoots = () => server.getClientCapabilities()?.roots !== undefined;
  const previous = server.oninitialized;
  server.oninitialized = () => {
    previous?.();
    if (supportsRoots()) refresh();
  };
  server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    if (supportsRoots()) refresh();
  });
  return {
    current: async () => {
      if (!supportsRoots()) return [];
      if (!roots) refresh();
      return (await roots) ?? [];
    },
    origin: () => (supportsRoots() ? "client roots" : "none"),
  };
}

async function fetchRoots(server: Server, logger: Logger): Promise<readonly string[]> {
  try {
    const { roots } = await server.listRoots(undefined, { timeout: ROOTS_TIMEOUT_MS });
    const dirs: string[] = [];
    for (const root of roots) {
      if (!root.uri.startsWith("file://")) continue;
      try {
        const real = await realpath(fileURLToPath(root.uri));
        if ((await stat(real)).isDirectory() && !dirs.includes(real)) dirs.push(real);
      } catch {
        logger.log("warning", `ignoring client root ${root.uri}: not an accessible directory`);
      }
    }
    logger.log("info", `client roots: ${dirs.length > 0 ? dirs.join(", ") : "none usable"}`);
    return dirs;
  } catch (error) {
    logger.log(
      "warning",
      `could not list client roots: ${error instanceof Error ? error.message : String(error)}`,
    );
    return [];
  }
}
