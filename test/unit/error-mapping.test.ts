import { describe, expect, it } from "vitest";
import { ToolFailure } from "../../src/core/errors.js";
import { parseLivenessResponse } from "../../src/didit/client.js";
import { MAY_HAVE_BEEN_BILLED_HINT, mapHttpError } from "../../src/didit/error-mapping.js";
import { failureOf } from "../support/expectations.js";

describe("mapHttpError: 400", () => {
  it("names user_image and quotes Didit's message, with an image-specific hint", () => {
    const f = mapHttpError(
      400,
      JSON.stringify({ user_image: ["Upload a valid image. The file is corrupted."] }),
    );
    expect(f).toBeInstanceOf(ToolFailure);
    expect(f.code).toBe("bad_request");
    expect(f.message).toContain("400");
    expect(f.message).toContain("user_image: Upload a valid image. The file is corrupted.");
    expect(f.hint).toMatch(/JPEG/);
    expect(f.hint).toContain("5 MB");
  });

  it("names face_liveness_score_decline_threshold with a range hint", () => {
    const f = mapHttpError(
      400,
      JSON.stringify({
        face_liveness_score_decline_threshold: ["Ensure this value is less than or equal to 100."],
      }),
    );
    expect(f.code).toBe("bad_request");
    expect(f.message).toContain("face_liveness_score_decline_threshold");
    expect(f.message).toContain("less than or equal to 100");
    expect(f.hint).toContain("face_liveness_score_decline_threshold");
    expect(f.hint).toMatch(/0 to 100/);
  });

  it("names every field of a multi-field map and tells which to fix", () => {
    const f = mapHttpError(
      400,
      JSON.stringify({ vendor_data: ["Too long."], metadata: ["Not valid JSON."] }),
    );
    expect(f.code).toBe("bad_request");
    expect(f.message).toContain("vendor_data: Too long.");
    expect(f.message).toContain("metadata: Not valid JSON.");
    expect(f.hint).toContain("vendor_data");
    expect(f.hint).toContain("metadata");
  });

  it("quotes a bare array of messages", () => {
    const f = mapHttpError(400, JSON.stringify(["Invalid image format.", "Second problem."]));
    expect(f.code).toBe("bad_request");
    expect(f.message).toContain("Invalid image format.; Second problem.");
    expect(f.hint).toMatch(/schema/);
  });

  it("quotes {detail, code} with the code", () => {
    const f = mapHttpError(400, JSON.stringify({ detail: "Malformed request.", code: "parse_error" }));
    expect(f.code).toBe("bad_request");
    expect(f.message).toContain("Malformed request. (code parse_error)");
    expect(f.hint).toMatch(/schema/);
  });

  it("says so when the body is empty", () => {
    expect(mapHttpError(400, "").message).toContain("empty body");
  });

  // Messages and hints must never carry unbounded upstream text, and field names are upstream text.
  it("keeps the hint bounded when a 400 body has very many or very long field names", () => {
    const body: Record<string, string[]> = {};
    for (let i = 0; i < 2000; i++) body[`field_${i}_${"x".repeat(50)}\ninjected`] = ["bad"];
    const f = mapHttpError(400, JSON.stringify(body));
    expect(f.code).toBe("bad_request");
    expect(f.message.length).toBeLessThan(600);
    expect(f.hint.length).toBeLessThan(600);
    expect(f.hint).not.toContain("\n");
    expect(f.hint).toContain("field_0_");
  });
});

describe("mapHttpError: auth and credits", () => {
  it("maps 401 to unauthorized with a hint about DIDIT_API_KEY", () => {
    const f = mapHttpError(401, JSON.stringify({ detail: "Invalid API key." }));
    expect(f.code).toBe("unauthorized");
    expect(f.message).toBe("Didit did not accept the API key (401).");
    expect(f.hint).toContain("DIDIT_API_KEY");
  });

  // An auth failure is where an upstream (or a proxy in front of it) is likeliest to echo the credentials back.
  it.each([
    [401, JSON.stringify({ detail: "Invalid API key: sk_live_abcdefgh" })],
    [401, "x-api-key=sk_live_abcdefgh rejected"],
    [403, JSON.stringify({ detail: "Key sk_live_abcdefgh may not use this service." })],
    [403, JSON.stringify({ detail: "Insufficient credits for key sk_live_abcdefgh." })],
    [403, "<html>403 Forbidden sk_live_abcdefgh</html>"],
  ])("never quotes the upstream body of a %i (%s)", (status, body) => {
    const f = mapHttpError(status, body);
    expect(f.message).toMatch(/^Didit .* \(40[13]\)\.$/);
    expect(f.message).not.toContain("sk_live");
    expect(f.hint).not.toContain("sk_live");
  });

  it.each([
    JSON.stringify({ detail: "Insufficient credits to perform this request." }),
    JSON.stringify({ detail: "Your balance is too low.", code: "insufficient_balance" }),
    "Payment required: no credits left",
  ])("maps 403 with a no-credits body to insufficient_credits (%s)", (body) => {
    const f = mapHttpError(403, body);
    expect(f.code).toBe("insufficient_credits");
    expect(f.message).toContain("403");
    expect(f.hint).toMatch(/Top up credits/);
  });

  it.each([
    JSON.stringify({ detail: "Authentication credentials were not provided." }),
    JSON.stringify({ detail: "You do not have permission to perform this action." }),
    JSON.stringify({ detail: "IP address not allowed." }),
    "",
  ])("maps any other 403 to forbidden (%s)", (body) => {
    const f = mapHttpError(403, body);
    expect(f.code).toBe("forbidden");
    expect(f.hint).toContain("DIDIT_API_KEY");
    expect(f.hint).toMatch(/IP/);
  });

  // "Insufficient" alone must not read as a credits problem.
  it("maps a 403 about insufficient permissions to forbidden, not insufficient_credits", () => {
    const f = mapHttpError(
      403,
      JSON.stringify({ detail: "API key has insufficient permissions for this service." }),
    );
    expect(f.code).toBe("forbidden");
  });

  it("maps 402 to insufficient_credits whatever the body", () => {
    for (const body of ["", "{}", JSON.stringify({ detail: "Payment Required" }), "<html>nope</html>"]) {
      const f = mapHttpError(402, body);
      expect(f.code).toBe("insufficient_credits");
      expect(f.message).toContain("402");
    }
  });
});

describe("mapHttpError: other statuses", () => {
  it("maps 404 to upstream_error mentioning DIDIT_BASE_URL", () => {
    const f = mapHttpError(404, "<html><body>Not Found</body></html>");
    expect(f.code).toBe("upstream_error");
    expect(f.message).toContain("404");
    expect(f.hint).toContain("DIDIT_BASE_URL");
  });

  it("maps 413 to too_large", () => {
    const f = mapHttpError(413, "<html>Request Entity Too Large</html>");
    expect(f.code).toBe("too_large");
    expect(f.hint).toContain("5 MB");
  });

  it("maps 429 with Retry-After to rate_limited carrying retryAfterSeconds", () => {
    const f = mapHttpError(429, JSON.stringify({ detail: "Request was throttled." }), 17);
    expect(f.code).toBe("rate_limited");
    expect(f.retryAfterSeconds).toBe(17);
    expect(f.message).toContain("17 s");
    expect(f.hint).toContain("Wait 17 seconds");
  });

  it("maps 429 without Retry-After to rate_limited with no retryAfterSeconds and a 60 s default wait", () => {
    const f = mapHttpError(429, "");
    expect(f.code).toBe("rate_limited");
    expect(f.retryAfterSeconds).toBeUndefined();
    expect(f.hint).toContain("Wait 60 seconds");
  });

  it.each([500, 502, 503, 504])(
    "maps %i with a JSON body to upstream_error that may have been billed",
    (status) => {
      const f = mapHttpError(status, JSON.stringify({ detail: "Internal failure", code: "server_error" }));
      expect(f.code).toBe("upstream_error");
      expect(f.message).toContain(String(status));
      expect(f.message).toContain("Internal failure");
      expect(f.hint).toBe(MAY_HAVE_BEEN_BILLED_HINT);
      expect(f.hint).toMatch(/billed/);
      expect(f.hint).toMatch(/not resent/);
    },
  );

  it.each([
    [500, "Internal Server Error"],
    [
      502,
      "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>",
    ],
    [503, "<!DOCTYPE html><html><body>Service Unavailable</body></html>"],
  ])("maps %i with an HTML/text body to upstream_error that may have been billed", (status, body) => {
    const f = mapHttpError(status, body);
    expect(f.code).toBe("upstream_error");
    expect(f.message).toContain("non-JSON body");
    expect(f.message).not.toContain("\n");
    expect(f.hint).toMatch(/billed/);
  });

  it("maps an undocumented status to upstream_error", () => {
    const f = mapHttpError(418, "teapot");
    expect(f.code).toBe("upstream_error");
    expect(f.message).toContain("418");
  });
});

describe("mapHttpError: bounded excerpts", () => {
  const huge = `${"<div>spam spam spam</div>\n".repeat(40_000)}END-OF-BODY`;
  const hugeCases: Array<[string, number, string]> = [
    ["HTML 500", 500, huge],
    ["HTML 503", 503, huge],
    ["field map 400", 400, JSON.stringify({ user_image: [huge, huge] })],
    ["bare array 400", 400, JSON.stringify([huge, huge])],
    ["unknown status", 418, huge],
    ["detail 402", 402, JSON.stringify({ detail: huge })],
  ];

  it.each(hugeCases)("excerpts an enormous %s body to under 600 chars", (_what, status, body) => {
    const f = mapHttpError(status, body);
    expect(body.length).toBeGreaterThan(1_000_000);
    expect(f.message.length).toBeLessThan(600);
    expect(f.hint.length).toBeLessThan(600);
    expect(f.message).not.toContain("END-OF-BODY");
    expect(f.message).toContain("…");
  });
});

const NEWEST = {
  request_id: "a1b2c3d4-e5f6-7890-1234-567890abcdef",
  liveness: {
    status: "Approved",
    method: "PASSIVE",
    score: 95,
    user_image: {
      entities: [
        { bbox: [661, 728, 1688, 2188], confidence: 0.732973, age: 26.91, gender: "male", race: null },
      ],
      best_angle: 0,
    },
    warnings: [],
    face_quality: 84.21,
    face_luminance: 50.33,
  },
  vendor_data: "user-123",
  metadata: null,
  created_at: "2026-06-12T01:04:42.763237+00:00",
};

const OLDER = {
  request_id: "11111111-2222-3333-4444-555555555555",
  liveness: {
    status: "Declined",
    method: "PASSIVE",
    score: 12.5,
    user_image: {
      entities: [{ bbox: [1, 2, 3, 4], confidence: 0.9, age: 40, gender: "female" }],
      best_angle: 90,
    },
    warnings: [
      {
        risk: "LOW_LIVENESS_SCORE",
        log_type: "error",
        short_description: "Low liveness score",
        long_description: "The liveness check resulted in a low score.",
      },
    ],
    face_quality: 60,
    face_luminance: 45,
  },
  created_at: "2025-05-01T13:11:07.977806Z",
};

describe("parseLivenessResponse", () => {
  it("parses the newest documented form", () => {
    const r = parseLivenessResponse(JSON.stringify(NEWEST));
    expect(r.request_id).toBe(NEWEST.request_id);
    expect(r.liveness.status).toBe("Approved");
    expect(r.liveness.score).toBe(95);
    expect(r.liveness.user_image?.entities?.[0]?.bbox).toEqual([661, 728, 1688, 2188]);
    expect(r.vendor_data).toBe("user-123");
    expect(r.created_at).toBe(NEWEST.created_at);
  });

  it("parses the older documented form", () => {
    const r = parseLivenessResponse(JSON.stringify(OLDER));
    expect(r.request_id).toBe(OLDER.request_id);
    expect(r.liveness.status).toBe("Declined");
    expect(r.liveness.warnings?.[0]?.risk).toBe("LOW_LIVENESS_SCORE");
    expect(r.vendor_data).toBeUndefined();
    expect(r.created_at).toBe("2025-05-01T13:11:07.977806Z");
  });

  it("parses a no-face answer with nulls", () => {
    const body = {
      request_id: "r",
      liveness: {
        status: "Declined",
        score: null,
        user_image: { entities: [], best_angle: null },
        warnings: [{ risk: "NO_FACE_DETECTED", log_type: "error" }],
        face_quality: null,
        face_luminance: null,
      },
    };
    const r = parseLivenessResponse(JSON.stringify(body));
    expect(r.liveness.score).toBeNull();
    expect(r.liveness.user_image?.entities).toEqual([]);
  });

  it("tolerates unknown extra fields at every level", () => {
    const body = {
      ...NEWEST,
      new_top_level: { x: 1 },
      liveness: {
        ...NEWEST.liveness,
        new_liveness_field: "x",
        user_image: {
          ...NEWEST.liveness.user_image,
          extra: true,
          entities: [{ ...NEWEST.liveness.user_image.entities[0], landmarks: [[1, 2]] }],
        },
        warnings: [
          {
            risk: "MULTIPLE_FACES_DETECTED",
            log_type: "warning",
            short_description: "s",
            long_description: "l",
            feature: "LIVENESS",
            additional_data: { faces: 2 },
            node_id: "n1",
          },
        ],
      },
    };
    const r = parseLivenessResponse(JSON.stringify(body));
    expect(r.request_id).toBe(NEWEST.request_id);
    expect(r.liveness.warnings?.[0]?.risk).toBe("MULTIPLE_FACES_DETECTED");
  });

  it.each(["<html>502 Bad Gateway</html>", "", '{"request_id": "abc", "liveness": '])(
    "refuses a non-JSON body with invalid_response (%s)",
    (body) => {
      const f = failureOf(() => parseLivenessResponse(body));
      expect(f.code).toBe("invalid_response");
      expect(f.message).toMatch(/not JSON/);
      expect(f.hint).toBe(MAY_HAVE_BEEN_BILLED_HINT);
    },
  );

  it("keeps the message bounded for an enormous non-JSON body", () => {
    const f = failureOf(() => parseLivenessResponse("x".repeat(500_000)));
    expect(f.code).toBe("invalid_response");
    expect(f.message.length).toBeLessThan(600);
  });

  it("refuses a body without request_id with invalid_response naming it", () => {
    const { request_id: _omit, ...rest } = NEWEST;
    const f = failureOf(() => parseLivenessResponse(JSON.stringify(rest)));
    expect(f.code).toBe("invalid_response");
    expect(f.message).toContain("request_id");
    expect(f.hint).toMatch(/billed/);
  });

  it.each([
    ["an empty request_id", { ...NEWEST, request_id: "" }],
    ["no liveness object", { request_id: "r" }],
    ["a numeric status", { request_id: "r", liveness: { status: 1 } }],
    ["a JSON array", [NEWEST]],
    ["JSON null", null],
  ])("refuses %s with invalid_response", (_what, body) => {
    expect(failureOf(() => parseLivenessResponse(JSON.stringify(body))).code).toBe("invalid_response");
  });
});

// Issue 18, section 2: Didit's real answers, as its OpenAPI document quotes them.
const PERMISSION_403 = JSON.stringify({ detail: "You do not have permission to perform this action." });
const CREDITS_403 = JSON.stringify({
  error: "You don't have enough credits to perform this request. Please top up at https://business.didit.me",
});

describe("mapHttpError: Didit's documented 403 bodies", () => {
  it.each([
    ["/v3/passive-liveness/", /Passive Liveness/, /Face Match/],
    ["/v3/face-match/", /Face Match/, /Passive Liveness/],
  ])(
    "the permission 403 on %s says the key may be wrong or revoked, for that endpoint",
    (endpoint, own, other) => {
      const f = mapHttpError(403, PERMISSION_403, undefined, endpoint);
      expect(f.code).toBe("forbidden");
      expect(`${f.message} ${f.hint}`).toMatch(/wrong/);
      expect(`${f.message} ${f.hint}`).toMatch(/revoked/);
      expect(`${f.message} ${f.hint}`).toMatch(own);
      expect(`${f.message} ${f.hint}`).not.toMatch(other);
      expect(f.hint).toContain("DIDIT_API_KEY");
      expect(f.message).not.toContain("permission to perform");
    },
  );

  it.each(["/v3/passive-liveness/", "/v3/face-match/"])(
    "the credits 403 on %s stays insufficient_credits with its own message",
    (endpoint) => {
      const f = mapHttpError(403, CREDITS_403, undefined, endpoint);
      expect(f.code).toBe("insufficient_credits");
      expect(f.message).toBe("Didit refused the check for lack of credits (403).");
      expect(f.hint).toMatch(/Top up credits/);
      expect(`${f.message} ${f.hint}`).not.toMatch(/wrong|revoked|business\.didit\.me/);
    },
  );

  it("a 401 (older docs) names the endpoint the key was refused for", () => {
    expect(mapHttpError(401, "", undefined, "/v3/face-match/").hint).toMatch(/Face Match/);
    expect(mapHttpError(401, "", undefined, "/v3/passive-liveness/").hint).toMatch(/Passive Liveness/);
  });
});

describe("mapHttpError: Didit's documented 400 bodies", () => {
  it("quotes {error: Invalid user image format.} with a hint to re-export the image", () => {
    const f = mapHttpError(400, JSON.stringify({ error: "Invalid user image format." }));
    expect(f.code).toBe("bad_request");
    expect(f.message).toBe("Didit rejected the request (400): Invalid user image format.");
    expect(f.hint).toMatch(/could not be decoded/);
    expect(f.hint).toMatch(/re-export/i);
    expect(f.hint).toMatch(/JPEG or PNG/);
    expect(f.hint).not.toMatch(/Fix the field/);
  });

  it("names the reference image when the undecodable one is ref_image", () => {
    const f = mapHttpError(
      400,
      JSON.stringify({ error: "Invalid ref image format." }),
      undefined,
      "/v3/face-match/",
    );
    expect(f.hint).toMatch(/reference/);
    expect(f.hint).toMatch(/JPEG or PNG/);
  });

  const DOCUMENTED_400: unknown[] = [
    { error: "Invalid user image format." },
    { user_image: ["File size should not exceed 5 MB"] },
    { ref_image: ["No file was submitted."] },
    {
      user_image: [
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image.",
      ],
    },
    { face_liveness_score_decline_threshold: ["Ensure this value is less than or equal to 100."] },
    { face_match_score_decline_threshold: ["Ensure this value is greater than or equal to 0."] },
    {
      vendor_data: ["Ensure this field has no more than 255 characters."],
      metadata: ["Value must be valid JSON."],
    },
    ["Invalid image format."],
    { detail: "Malformed request.", code: "parse_error" },
    { detail: "Multipart form parse error - Invalid boundary in multipart: None." },
  ];

  it.each(DOCUMENTED_400.map((body) => [JSON.stringify(body)]))("no doubled full stop for %s", (body) => {
    for (const endpoint of ["/v3/passive-liveness/", "/v3/face-match/"]) {
      const f = mapHttpError(400, body, undefined, endpoint);
      expect(f.code).toBe("bad_request");
      // Two full stops in a row, but not an ellipsis.
      expect(f.message).not.toMatch(/(?<!\.)\.\.(?!\.)/);
      expect(f.hint).not.toMatch(/(?<!\.)\.\.(?!\.)/);
      expect(f.message).toMatch(/[.!?…]$/);
    }
  });

  it("no doubled full stop in any other status's message either", () => {
    const bodies = [...DOCUMENTED_400.map((b) => JSON.stringify(b)), PERMISSION_403, CREDITS_403, ""];
    for (const status of [401, 402, 403, 404, 413, 429, 500, 502, 418]) {
      for (const body of bodies) {
        const f = mapHttpError(status, body, 3, "/v3/face-match/");
        expect(f.message, `${status} ${body}`).not.toMatch(/(?<!\.)\.\.(?!\.)/);
        expect(f.hint, `${status} ${body}`).not.toMatch(/(?<!\.)\.\.(?!\.)/);
      }
    }
  });
});
