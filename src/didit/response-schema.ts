import { z } from "zod";

// The ranges a real 200 keeps (Didit's OpenAPI). A value outside them is not a verdict we understand, so it fails
// the parse, which the client answers with invalid_response: never a "live person, proceed".

/** score, face_quality, face_luminance: 0-100, or null without a face. */
const percent = z.number().min(0).max(100).nullable().optional();
/** A score, liveness and face match alike: 0-100 or null. */
export const diditScoreSchema = percent;
const BEST_ANGLES: readonly number[] = [0, 90, 180, 270];

/**
 * A warning object, in liveness and face-match answers alike. `feature` and `additional_data` (what a screening
 * hit matched, e.g. blocklisted_session_id) are kept; other platform-wide fields (node_id) are tolerated.
 */
export const diditWarningSchema = z.looseObject({
  risk: z.string().min(1),
  feature: z.string().nullable().optional(),
  additional_data: z.unknown().optional(),
  log_type: z.string().nullable().optional(),
  short_description: z.string().nullable().optional(),
  long_description: z.string().nullable().optional(),
});

/** A detected face, in either endpoint's images: bbox [x1, y1, x2, y2] and confidence 0-1. */
export const diditEntitySchema = z.looseObject({
  bbox: z.array(z.number()).length(4, "bbox must be four numbers [x1, y1, x2, y2]").nullable().optional(),
  confidence: z.number().min(0).max(1).nullable().optional(),
  age: z.number().nullable().optional(),
  gender: z.string().nullable().optional(),
});

/** What Didit found in one image; best_angle is 0/90/180/270, null only when no face was found. */
export const diditImageSchema = z
  .looseObject({
    entities: z.array(diditEntitySchema).nullable().optional(),
    best_angle: z
      .number()
      .refine((angle) => BEST_ANGLES.includes(angle), "best_angle must be 0, 90, 180 or 270")
      .nullable()
      .optional(),
  })
  .superRefine((image, ctx) => {
    if ((image.entities?.length ?? 0) > 0 && (image.best_angle ?? null) === null) {
      ctx.addIssue({ code: "custom", path: ["best_angle"], message: "a found face comes with a best_angle" });
    }
  });

/** Faces found in an image that may be missing or null. */
export function facesIn(image: { entities?: unknown[] | null | undefined } | null | undefined): number {
  return image?.entities?.length ?? 0;
}

/**
 * The documented 200 response, both the newest and the older form, tolerant of unknown extra fields.
 * Status stays a string here; the assessment decides what an unexpected value means.
 */
export const diditLivenessResponseSchema = z.looseObject({
  request_id: z.string().min(1),
  liveness: z
    .looseObject({
      status: z.string(),
      method: z.string().nullable().optional(),
      score: percent,
      user_image: diditImageSchema.nullable().optional(),
      warnings: z.array(diditWarningSchema).nullable().optional(),
      face_quality: percent,
      face_luminance: percent,
    })
    .superRefine((liveness, ctx) => {
      // An Approved liveness always has a face and a score: one without is nothing we can act on.
      if (liveness.status !== "Approved") return;
      if ((liveness.score ?? null) === null) {
        ctx.addIssue({ code: "custom", path: ["score"], message: "an Approved liveness has a score" });
      }
      if (facesIn(liveness.user_image) === 0) {
        ctx.addIssue({ code: "custom", path: ["user_image"], message: "an Approved liveness has a face" });
      }
    }),
  vendor_data: z.string().nullable().optional(),
  metadata: z.unknown().optional(),
  created_at: z.string().nullable().optional(),
});

export type DiditLivenessResponse = z.infer<typeof diditLivenessResponseSchema>;
export type DiditWarning = z.infer<typeof diditWarningSchema>;
