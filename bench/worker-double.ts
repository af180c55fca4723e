import { Worker } from "node:worker_threads";

/**
 * The loopback Didit double on a worker thread (bench/double-worker.ts), answering after `delayMs`: its CPU work
 * does not queue behind the bench's MCP client. `connections` counts TCP connections accepted so far.
 */
export async function startWorkerDouble(delayMs: number) {
  const worker = new Worker(new URL("./double-worker.js", import.meta.url), { workerData: { delayMs } });
  const next = <T>(key: string) =>
    new Promise<T>((resolve) => {
      const onMessage = (message: Record<string, T>) => {
        if (key in message) {
          worker.off("message", onMessage);
          resolve(message[key] as T);
        }
      };
      worker.on("message", onMessage);
    });
  const url = await next<string>("url");
  return {
    url,
    connections: async () => {
      const answer = next<number>("connections");
      worker.postMessage("connections");
      return answer;
    },
    close: async () => {
      const closed = next<boolean>("closed");
      worker.postMessage("close");
      await closed;
      await worker.terminate();
    },
  };
}
