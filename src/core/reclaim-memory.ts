import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | null | undefined;

/**
 * Runs one full garbage collection when the runtime allows it. After a burst of image calls an idle server has no
 * allocation pressure, so V8 kept the burst's dead arguments mapped (200 x 6.7 MB base64 strings: RSS stayed
 * 1.5 GB above idle); one collection gives them back. `--expose-gc` is set at run time because a bin cannot pass it.
 */
export function collectGarbage(): boolean {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === "function") collect = exposed;
    else {
      try {
        v8.setFlagsFromString("--expose-gc");
        collect = vm.runInNewContext("gc") as () => void;
      } catch {
        collect = null;
      }
    }
  }
  collect?.();
  return collect !== null;
}

/**
 * Collects a moment after the call that schedules it (the last results must be sent and dropped first), and once
 * more later for what the cancelled calls' settling still held at the first pass.
 */
export function collectGarbageSoon(delaysMs: readonly number[] = [1_000, 5_000]): void {
  for (const delay of delaysMs) setTimeout(collectGarbage, delay).unref();
}
