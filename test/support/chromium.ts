import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Debian's chromium for the browser test, installed with apt when it is missing (the test says so on stderr); never a
 * downloaded browser build. Answers why it cannot be had, or undefined when it is there.
 */
export function ensureChromium(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  if (process.platform !== "linux" || !existsSync("/usr/bin/apt-get")) {
    return `${CHROMIUM_PATH} is missing and there is no apt-get here to install it`;
  }
  if (process.getuid?.() !== 0)
    return `${CHROMIUM_PATH} is missing; install it with: sudo apt-get install -y chromium`;
  process.stderr.write("browser test: chromium is missing; installing it with apt-get install -y chromium\n");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update"], ["install", "-y", "--no-install-recommends", "chromium"]]) {
    const run = spawnSync("apt-get", args, { env, stdio: ["ignore", "ignore", "pipe"], timeout: 600_000 });
    if (run.status !== 0) {
      return `apt-get ${args.join(" ")} failed: ${String(run.stderr ?? "")
        .trim()
        .split("\n")
        .slice(-2)
        .join(" ")}`;
    }
  }
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `apt-get installed chromium, but ${CHROMIUM_PATH} is still missing`;
}
