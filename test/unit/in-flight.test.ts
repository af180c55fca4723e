/** The in-flight bound: at most N holders, first come first served, and a cancelled waiter leaves nothing behind. */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { createInFlightLimit } from "../../src/core/in-flight.js";
import { collectGarbage } from "../../src/core/reclaim-memory.js";

describe("createInFlightLimit", () => {
  it("grants at most max slots and hands each freed slot to the longest waiter", async () => {
    const limit = createInFlightLimit(2);
    const a = await limit.acquire();
    const b = await limit.acquire();
    const order: string[] = [];
    const c = limit.acquire().then((release) => {
      order.push("c");
      return release;
    });
    const d = limit.acquire().then((release) => {
      order.push("d");
      return release;
    });
    expect([limit.active, limit.waiting]).toEqual([2, 2]);
    a();
    a(); // idempotent: a second release frees nothing more
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    expect([limit.active, limit.waiting]).toEqual([2, 1]);
    b();
    (await d)();
    releaseC();
    expect([limit.active, limit.waiting]).toEqual([0, 0]);
  });

  it("a waiter whose call is cancelled is removed, rejected as cancelled, and never granted", async () => {
    const limit = createInFlightLimit(1);
    const held = await limit.acquire();
    const controller = new AbortController();
    const cancelled = limit.acquire(controller.signal);
    const next = limit.acquire();
    expect(limit.waiting).toBe(2);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: "cancelled" });
    expect(limit.waiting).toBe(1);
    held();
    (await next)();
    expect([limit.active, limit.waiting]).toEqual([0, 0]);
    await expect(limit.acquire(controller.signal)).rejects.toMatchObject({ code: "cancelled" });
  });

  it("leaves no abort listener on the call's signal once a slot is granted", async () => {
    const limit = createInFlightLimit(1);
    const held = await limit.acquire();
    const signal = new AbortController().signal;
    const waiting = limit.acquire(signal);
    expect(getEventListeners(signal, "abort")).toHaveLength(1);
    held();
    (await waiting)();
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
  });

  it("reports a burst as over once, when the last slot is released after some call had to wait", async () => {
    let bursts = 0;
    const limit = createInFlightLimit(1, { onBurstOver: () => bursts++ });
    (await limit.acquire())();
    expect(bursts).toBe(0); // no call waited: not a burst
    const first = await limit.acquire();
    const second = limit.acquire();
    first();
    expect(bursts).toBe(0);
    (await second)();
    expect(bursts).toBe(1);
    (await limit.acquire())();
    expect(bursts).toBe(1);
  });

  it("can collect garbage without --expose-gc on the command line", () => {
    expect(collectGarbage()).toBe(true);
  });
});
