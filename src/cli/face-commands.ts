import { loadCommandLineConfig } from "../config/config.js";
import { runFaceMatch } from "../flows/face-match/match.js";
import { createImagePrecheck } from "../flows/face-match/precheck.js";
import type { FaceMatchAssessment, SelfieVerification } from "../flows/face-match/result.js";
import { runSelfieVerification } from "../flows/face-match/verify.js";
import { selectLivenessClient } from "../flows/liveness/select-client.js";
import { diditRequestOptions, parse, scoreOption, typedImagePath, usageError } from "./command-options.js";
import { scoreText } from "./figures.js";
import { EXIT } from "./io.js";

interface FaceCommandIO {
  out: (text: string) => void;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** `match` and `verify`: the same flows as match_faces and verify_selfie, with the CLI's exit codes. */
export async function runFaceCommand(
  command: "match" | "verify",
  argv: readonly string[],
  io: FaceCommandIO,
): Promise<number> {
  const { values, positionals } = parse(argv, {
    threshold: { type: "string" },
    "liveness-threshold": { type: "string" },
    "match-threshold": { type: "string" },
    rotate: { type: "boolean" },
    "no-save": { type: "boolean" },
    "vendor-data": { type: "string" },
    metadata: { type: "string" },
    precheck: { type: "boolean" },
    json: { type: "boolean" },
    sandbox: { type: "boolean" },
  });
  if (positionals.length !== 2) {
    throw usageError(
      `${command} needs exactly two image paths: the selfie, then the reference (ID portrait).`,
    );
  }
  const allowed = command === "match" ? ["threshold"] : ["liveness-threshold", "match-threshold", "precheck"];
  for (const flag of ["threshold", "liveness-threshold", "match-threshold", "precheck"]) {
    if (values[flag] !== undefined && !allowed.includes(flag))
      throw usageError(`${command} does not take --${flag}.`);
  }
  const config = await loadCommandLineConfig({ allowDirs: [], sandbox: values.sandbox === true }, io.env);
  // A person typed these paths, so their own directories are the allowed ones; every other file rule still applies.
  const [user, ref] = await Promise.all(positionals.map(typedImagePath));
  const dirs = [user?.dir ?? "", ref?.dir ?? ""];
  const client = selectLivenessClient(config);
  const deps = {
    allowedDirs: async () => dirs,
    allowHardlinks: config.allowHardlinks,
    client,
    sandbox: config.sandbox,
  };
  const common = {
    user_image_path: user?.file,
    ref_image_path: ref?.file,
    ...diditRequestOptions(values),
  };
  try {
    if (command === "match") {
      const result = await runFaceMatch(
        deps,
        { ...common, face_match_score_decline_threshold: scoreOption(values.threshold, "--threshold") },
        { signal: io.signal },
      );
      io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderMatch(result));
      return result.status === "Approved" ? EXIT.approved : EXIT.declined;
    }
    const result = await runSelfieVerification(
      {
        ...deps,
        precheck: createImagePrecheck(
          config.precheckModelsDir ? { modelsDir: config.precheckModelsDir } : undefined,
        ),
      },
      {
        ...common,
        face_liveness_score_decline_threshold: scoreOption(
          values["liveness-threshold"],
          "--liveness-threshold",
        ),
        face_match_score_decline_threshold: scoreOption(values["match-threshold"], "--match-threshold"),
        precheck: values.precheck === true,
      },
      { signal: io.signal },
    );
    io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderVerification(result));
    return result.identity_verified ? EXIT.approved : EXIT.declined;
  } finally {
    await client?.close();
  }
}

export function renderMatch(r: FaceMatchAssessment): string {
  return [
    ...(r.sandbox ? ["SANDBOX: mocked result, not a real verdict (nothing was uploaded)."] : []),
    `Face match: ${r.status}${r.is_match ? " (same person)" : ""} · next action: ${r.next_action}`,
    `Score: ${scoreText(r.score)} · faces: selfie ${r.user_image.faces_detected}, reference ${r.ref_image.faces_detected} · request id: ${r.request_id}`,
    `Summary: ${r.summary}`,
    ...(r.warnings.length > 0 ? [`Warnings: ${r.warnings.map((w) => w.risk).join(", ")}`] : []),
    "",
  ].join("\n");
}

export function renderVerification(r: SelfieVerification): string {
  const lines = [
    ...(r.sandbox ? ["SANDBOX: mocked results, not real verdicts (nothing was uploaded)."] : []),
    `Identity verified: ${r.identity_verified ? "yes" : "no"} · next action: ${r.next_action} · credits used: ${r.credits_used}`,
    `Summary: ${r.summary}`,
  ];
  if (r.liveness) {
    lines.push(
      `1. Liveness: ${r.liveness.status} · score ${scoreText(r.liveness.score)} · request id: ${r.liveness.request_id}${r.liveness.warnings.length > 0 ? ` · warnings: ${r.liveness.warnings.map((w) => w.risk).join(", ")}` : ""}`,
    );
  }
  if (r.face_match) {
    lines.push(
      `2. Face match: ${r.face_match.status} · score ${scoreText(r.face_match.score)} · request id: ${r.face_match.request_id}${r.face_match.warnings.length > 0 ? ` · warnings: ${r.face_match.warnings.map((w) => w.risk).join(", ")}` : ""}`,
    );
  } else {
    lines.push(`2. Face match: skipped (${r.face_match_skipped_reason ?? "no reason given"})`);
  }
  return `${lines.join("\n")}\n`;
}
