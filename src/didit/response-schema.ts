import { z } from "zod";

const nullableNumber = z.number().nullable().optional();

/** A warning object; platform-wide fields (feature, additional_data, node_id) are tolerated and ignored. */
export const diditWarningSchema = z.looseObject({
  risk: z.string().min(1),
  log_type: z.string().nullable().optional(),
  short_description: z.string().nullable().optional(),
  long_description: z.string().nullable().optional(),
});

export const diditEntitySchema = z.looseObject({
  bbox: z.array(z.number()).nullable().optional(),
  confidence: nullableNumber,
  age: nullableNumber,
  gender: z.string().nullable().optional(),
});

/**
 * The documented 200 response, both the newest and the older form, tolerant of unknown extra fields.
 * Status stays a string here; the assessment decides what an unexpected value means.
 */
export const diditLivenessResponseSchema = z.looseObject({
  request_id: z.string().min(1),
  liveness: z.looseObject({
    status: z.string(),
    method: z.string().nullable().optional(),
    score: nullableNumber,
    user_image: z
      .looseObject({
        entities: z.array(diditEntitySchema).nullable().optional(),
        best_angle: nullableNumber,
      })
      .nullable()
      .optional(),
    warnings: z.array(diditWarningSchema).nullable().optional(),
    face_quality: nullableNumber,
    face_luminance: nullableNumber,
  }),
  vendor_data: z.string().nullable().optional(),
  metadata: z.unknown().optional(),
  created_at: z.string().nullable().optional(),
});

export type DiditLivenessResponse = z.infer<typeof diditLivenessResponseSchema>;
export type DiditWarning = z.infer<typeof diditWarningSchema>;
