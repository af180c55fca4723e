import { z } from "zod";
import { diditEntitySchema, diditWarningSchema } from "./response-schema.js";

const nullableNumber = z.number().nullable().optional();

const imageSchema = z
  .looseObject({
    entities: z.array(diditEntitySchema).nullable().optional(),
    best_angle: nullableNumber,
  })
  .nullable()
  .optional();

/**
 * The documented 200 response of POST /v3/face-match/, tolerant of unknown extra fields and the older form
 * (no vendor_data/metadata). Status stays a string here; the assessment decides what an unexpected value means.
 */
export const diditFaceMatchResponseSchema = z.looseObject({
  request_id: z.string().min(1),
  face_match: z.looseObject({
    status: z.string(),
    score: nullableNumber,
    user_image: imageSchema,
    ref_image: imageSchema,
    warnings: z.array(diditWarningSchema).nullable().optional(),
  }),
  vendor_data: z.string().nullable().optional(),
  metadata: z.unknown().optional(),
  created_at: z.string().nullable().optional(),
});

export type DiditFaceMatchResponse = z.infer<typeof diditFaceMatchResponseSchema>;
