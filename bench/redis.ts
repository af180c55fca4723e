/**
 * What DIDIT_REDIS_URL costs in remote mode: the per-call overhead of the shared budget (one reservation script per
 * check, which also reads Didit's 429 pause, on a loopback redis-server) over today's per-process --http, and the 64-checks-at-16 wall
 * with and without it. Needs redis-server installed (`npm run test:all` installs it); without it, no rows.
 */
import { installedRedisServer, type RedisServer, startRedisServer } from "../test/support/redis-server.js";
import { sixtyFourAtSixteen, startHttpServer } from "./http-server.js";
import { log, type Row, stats } from "./table.js";
import { startWorkerDouble } from "./worker-double.js";

export async function benchSharedState(quick: boolean): Promise<Row[]> {
  const binary = installedRedisServer();
  if (!binary) {
    log("  skipped: redis-server is not installed (npm run test:all installs it)");
    return [];
  }
  const rows: Row[] = [];
  const redis: RedisServer = await startRedisServer(binary);
  try {
    // Per-call overhead: Didit answering at once, so the difference is the store's (and nothing else's).
    const instant = await startWorkerDouble(0);
    const plain = await startHttpServer(instant.url);
    const shared = await startHttpServer(instant.url, { DIDIT_REDIS_URL: redis.url });
    try {
      for (let i = 0; i < 5; i++) {
        await plain.call();
        await shared.call();
      }
      const calls = quick ? 40 : 300;
      const without: number[] = [];
      const withRedis: number[] = [];
      // Interleaved, so a load change on a shared machine hits both alike.
      for (let i = 0; i < calls; i++) {
        let t0 = performance.now();
        await plain.call();
        without.push(performance.now() - t0);
        t0 = performance.now();
        await shared.call();
        withRedis.push(performance.now() - t0);
      }
      const a = stats(without);
      const b = stats(withRedis);
      const overhead = b.median - a.median;
      const [reserve, pauseCheck] = [await shared.storeMs("reserve"), await shared.storeMs("pause_check")];
      rows.push({
        figure: "per-call overhead of the shared budget (DIDIT_REDIS_URL, loopback redis-server) over --http",
        unit: "ms",
        value: b,
        baseline: a,
        ratio: b.median / a.median,
        target: "median overhead < 1 ms",
        met: overhead < 1,
        note: `overhead ${overhead.toFixed(2)} ms; one store round trip per check (the reservation, which also reads the 429 pause): mean ${reserve.toFixed(2)} ms; separate pause reads: ${Number.isNaN(pauseCheck) ? "none" : `${pauseCheck.toFixed(2)} ms`}`,
      });
    } finally {
      await plain.close();
      await shared.close();
      await instant.close();
    }

    // The concurrency figure, with and without the store, Didit answering in 200 ms.
    const slow = await startWorkerDouble(200);
    const plain16 = await startHttpServer(slow.url);
    const shared16 = await startHttpServer(slow.url, { DIDIT_REDIS_URL: redis.url });
    try {
      await plain16.call();
      await shared16.call();
      const without: number[] = [];
      const withRedis: number[] = [];
      for (let r = 0; r < (quick ? 1 : 5); r++) {
        without.push(await sixtyFourAtSixteen(plain16.call));
        withRedis.push(await sixtyFourAtSixteen(shared16.call));
      }
      const a = stats(without);
      const b = stats(withRedis);
      rows.push({
        figure:
          "64 checks at concurrency 16 over --http with DIDIT_REDIS_URL vs without, Didit answering in 200 ms",
        unit: "ms",
        value: b,
        baseline: a,
        ratio: b.median / a.median,
        target: "with / without <= 1.05",
        met: b.median / a.median <= 1.05,
      });
    } finally {
      await plain16.close();
      await shared16.close();
      await slow.close();
    }
  } finally {
    await redis.stop();
  }
  return rows;
}
