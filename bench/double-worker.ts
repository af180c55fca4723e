// Runs the loopback Didit double on its own thread, so its CPU work (multipart parsing, hashing) does not queue
// behind the bench's MCP client on one event loop: the concurrency figure then measures the server.
import { parentPort, workerData } from "node:worker_threads";
import { delayed, startDiditDouble } from "../test/support/didit-double.js";

const double = await startDiditDouble();
double.setDefault(delayed((workerData as { delayMs: number }).delayMs));
parentPort?.postMessage({ url: double.url });
parentPort?.on("message", async (message: string) => {
  if (message === "connections") parentPort?.postMessage({ connections: double.connections });
  if (message === "requests") parentPort?.postMessage({ requests: double.requests.length });
  if (message === "close") {
    await double.close();
    parentPort?.postMessage({ closed: true });
  }
});
