/**
 * match_faces and verify_selfie take the same input fields as check_passive_liveness, with the same bounds, and
 * read Didit's metadata echo the same bounded way: a huge metadata is refused cheaply before anything leaves, a
 * hostile deep echo after a paid call still gives the verdict, and the threshold rules are the same everywhere.
 */
import { performance } from "node:perf_hooks";
import { beforeAll, describe, expect, it } from "vitest";
import { FACE_MATCH_PATH, LIVENESS_PATH } from "../support/didit-double.js";
import { textOf, useDoubleSession } from "../support/in-memory.js";

const PAIR = { user_image_path: "live_silentface_T1.jpg", ref_image_path: "syn_astronaut.jpg" };

const env = useDoubleSession();

/** A JSON object text nested `depth` levels deep: {"a":{"a":...{}}}, built as text so no test code recurses. */
function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}{}${"}".repeat(depth)}`;
}

/** Didit's documented 200 bodies, with `metadata` spliced in as raw JSON text. */
function livenessBody(metadataJson: string): string {
  return `{"request_id":"a1b2c3d4-e5f6-7890-1234-567890abcdef","liveness":{"status":"Approved","method":"PASSIVE","score":95,"user_image":{"entities":[{"bbox":[661,728,1688,2188],"confidence":0.73,"age":26.9,"gender":"male","race":null}],"best_angle":0},"warnings":[],"face_quality":84.2,"face_luminance":50.3},"vendor_data":null,"metadata":${metadataJson},"created_at":"2026-06-12T01:04:42.763237+00:00"}`;
}
function faceMatchBody(metadataJson: string): string {
  return `{"request_id":"b1b2c3d4-e5f6-7890-1234-567890abcdef","face_match":{"status":"Approved","score":87.5,"user_image":{"entities":[{"bbox":[10,10,200,200],"confidence":0.99}],"best_angle":0},"ref_image":{"entities":[{"bbox":[12,12,210,210],"confidence":0.98}],"best_angle":0},"warnings":[]},"vendor_data":null,"metadata":${metadataJson},"created_at":"2026-01-01T00:00:00Z"}`;
}

// z.record walked and copied every key (about 2.8 s for 1.5M keys, against 0.5 s for check_passive_liveness, which
// is V8 listing the keys) before the bounded check could refuse the value. Timings swing with the load on shared
// cores, so what is asserted is the work: how many values are read before the refusal. 100,000 keys is 100 times
// the bound, so a walk of every key still fails the read count (a z.record put back reads all 100,000), at ~0.1 s
// a call where 1.5M keys took 7-14 s (the proxy's traps and V8's key listing grow faster than the key count).
const KEYS = 100_000;

describe(`metadata with ${KEYS.toLocaleString("en-US")} keys`, () => {
  let keys: string[];
  beforeAll(() => {
    keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
  });

  /** A plain-looking object with 1.5M keys that counts how many of its values anything reads. */
  function countedMetadata(): { metadata: object; reads: () => number } {
    let reads = 0;
    const target: Record<string, number> = {};
    const metadata = new Proxy(target, {
      ownKeys: () => keys,
      getOwnPropertyDescriptor: (_, key) =>
        typeof key === "string"
          ? { value: 1, enumerable: true, configurable: true, writable: true }
          : undefined,
      has: (_, key) => typeof key === "string" && key.startsWith("k"),
      get: (_, key) => {
        if (typeof key !== "string" || !key.startsWith("k")) return undefined;
        reads += 1;
        return 1;
      },
    });
    return { metadata, reads: () => reads };
  }

  it.each([
    ["check_passive_liveness", { image_path: "live_silentface_T1.jpg" }],
    ["match_faces", PAIR],
    ["verify_selfie", PAIR],
  ])(
    "%s refuses it as invalid_input after reading at most ~1,000 of its values, sending nothing",
    async (tool, args) => {
      const { metadata, reads } = countedMetadata();
      const started = performance.now();
      const result = await env.session.call(tool, { ...args, metadata });
      const elapsedMs = Math.round(performance.now() - started);
      expect(result.isError, tool).toBe(true);
      expect(textOf(result), tool).toMatch(/^Error \[invalid_input\]: metadata .*1,000/s);
      expect(reads(), `${tool} read ${reads()} values in ${elapsedMs} ms`).toBeLessThanOrEqual(1_001);
      expect(env.double.requests).toHaveLength(0);
    },
  );

  it(`a real ${KEYS.toLocaleString("en-US")}-key object is refused the same way by both face tools`, async () => {
    const huge: Record<string, number> = {};
    for (const key of keys) huge[key] = 1;
    for (const tool of ["match_faces", "verify_selfie"]) {
      const result = await env.session.call(tool, { ...PAIR, metadata: huge });
      expect(textOf(result), tool).toMatch(/^Error \[invalid_input\]: metadata .*1,000/s);
    }
    expect(env.double.requests).toHaveLength(0);
  });
});

describe("an echo of metadata nested 10,000 levels deep from a hostile Didit", () => {
  const deep = deepJson(10_000);

  it("match_faces still returns the paid match's verdict, without the echo", async () => {
    env.double.enqueueMatch({ kind: "status", status: 200, body: faceMatchBody(deep) });
    const result = await env.session.call("match_faces", PAIR);
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: "Approved", is_match: true });
    expect(result.structuredContent).not.toHaveProperty("metadata");
    expect(env.double.requestsTo(FACE_MATCH_PATH)).toHaveLength(1);
  });

  it("verify_selfie still returns both verdicts, without either echo", async () => {
    env.double.enqueue({ kind: "status", status: 200, body: livenessBody(deep) });
    env.double.enqueueMatch({ kind: "status", status: 200, body: faceMatchBody(deep) });
    const result = await env.session.call("verify_selfie", PAIR);
    expect(result.isError, textOf(result)).toBeFalsy();
    const verification = result.structuredContent as {
      identity_verified: boolean;
      liveness: Record<string, unknown>;
      face_match: Record<string, unknown>;
    };
    expect(verification.identity_verified).toBe(true);
    expect(verification.liveness).toMatchObject({ status: "Approved" });
    expect(verification.face_match).toMatchObject({ status: "Approved" });
    expect(verification.liveness).not.toHaveProperty("metadata");
    expect(verification.face_match).not.toHaveProperty("metadata");
    expect(env.double.requestsTo(LIVENESS_PATH)).toHaveLength(1);
    expect(env.double.requestsTo(FACE_MATCH_PATH)).toHaveLength(1);
  });

  it("a small echo is still passed through by match_faces", async () => {
    const result = await env.session.call("match_faces", { ...PAIR, metadata: { flow: "signup" } });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ metadata: { flow: "signup" } });
  });
});

describe("decline thresholds", () => {
  it("verify_selfie refuses a liveness threshold with 7 decimal places, as check_passive_liveness does", async () => {
    for (const tool of ["check_passive_liveness", "verify_selfie"]) {
      const args = tool === "verify_selfie" ? { ...PAIR } : { image_path: "live_silentface_T1.jpg" };
      const result = await env.session.call(tool, {
        ...args,
        face_liveness_score_decline_threshold: 30.0000001,
      });
      expect(result.isError, tool).toBe(true);
      expect(textOf(result), tool).toMatch(
        /^Error \[invalid_input\]: .*face_liveness_score_decline_threshold.*6 decimal places/s,
      );
    }
    expect(env.double.requests).toHaveLength(0);
  });

  // verify_selfie's schema declared no decimal-places rule (the flow alone refused), so a client never learnt it.
  it("verify_selfie lists the liveness threshold rule check_passive_liveness lists, and every tool the same shared fields", async () => {
    const { tools } = await env.session.client.listTools();
    const props = (name: string) =>
      tools.find((t) => t.name === name)?.inputSchema.properties as Record<string, Record<string, unknown>>;
    const check = props("check_passive_liveness");
    const verify = props("verify_selfie");
    const match = props("match_faces");
    expect(verify.face_liveness_score_decline_threshold).toEqual(check.face_liveness_score_decline_threshold);
    expect(match.face_match_score_decline_threshold).toEqual(verify.face_match_score_decline_threshold);
    for (const field of ["metadata", "vendor_data"]) {
      expect(match[field], field).toEqual(verify[field]);
      expect(match[field]?.type, field).toBe(check[field]?.type);
    }
  });
});
