import { describe, expect, it } from "vitest";
import { runPool } from "../../src/cli/worker-pool.js";

describe("runPool: batch's and calibrate's one worker pool", () => {
  it("starts items in order on at most `concurrency` workers", async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    await runPool(
      [10, 11, 12, 13, 14],
      2,
      () => true,
      async (item, index) => {
        expect(item).toBe(index + 10);
        started.push(index);
        running += 1;
        peak = Math.max(peak, running);
        await Promise.resolve();
        running -= 1;
      },
    );
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });

  it("starts nothing more once more() is false; what runs finishes", async () => {
    const done: number[] = [];
    await runPool(
      [0, 1, 2, 3],
      1,
      () => done.length < 2,
      async (item) => {
        done.push(item);
      },
    );
    expect(done).toEqual([0, 1]);
  });
});
