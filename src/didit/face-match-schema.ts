import { z } from "zod";
import { diditImageSchema, diditScoreSchema, diditWarningSchema, facesIn } from "./response-schema.js";

/**
 * The documented 200 response of POST /v3/face-match/, tolerant of unknown extra fields and the older form
 * (no vendor_data/metadata). Status stays a string here; the assessment decides what an unexpected value means.
 * Images, faces, warnings and the score share the liveness answer's schemas and ranges.
 */
export const diditFaceMatchResponseSchema = z.looseObject({
  request_id: z.string().min(1),
  face_match: z
    .looseObject({
      status: z.string(),
      score: diditScoreSchema,
      user_image: diditImageSchema.nullable().optional(),
      ref_image: diditImageSchema.nullable().optional(),
      warnings: z.array(diditWarningSchema).nullable().optional(),
    })
    .superRefine((match, ctx) => {
      // An Approved match compared two faces and scored them: one without is nothing we can act on.
      if (match.status !== "Approved") return;
      if ((match.score ?? null) === null) {
        ctx.addIssue({ code: "custom", path: ["score"], message: "an Approved face match has a score" });
      }
      for (const image of ["user_image", "ref_image"] as const) {
        if (facesIn(match[image]) === 0) {
          ctx.addIssue({ code: "custom", path: [image], message: "an Approved face match has a face here" });
        }
      }
    }),
  vendor_data: z.string().nullable().optional(),
  metadata: z.unknown().optional(),
  created_at: z.string().nullable().optional(),
});

export type DiditFaceMatchResponse = z.infer<typeof diditFaceMatchResponseSchema>;
