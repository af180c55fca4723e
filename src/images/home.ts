import { homedir } from "node:os";
import path from "node:path";

/** `~` and `~/x` as a shell would expand them; anything else unchanged. */
export function expandHome(p: string): string {
  if (p === "~") return homedir();
  if (p.startsWith("~/") || p.startsWith(`~${path.sep}`)) return path.join(homedir(), p.slice(2));
  return p;
}
