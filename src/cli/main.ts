import { apiKeyInEnv, ConfigError } from "../config/config.js";
import { asToolFailure, formatFailure, isInputFailure, ToolFailure } from "../core/errors.js";
import { createRedactor } from "../core/redact.js";
import { runLivenessCheck } from "../flows/liveness/check.js";
import type { LivenessAssessment } from "../flows/liveness/result.js";
import { selectLivenessClient } from "../flows/liveness/select-client.js";
import { precheckFaceImage } from "../flows/precheck.js";
import { createUrlPolicy } from "../images/url-policy.js";
import type { PrecheckOutput } from "../precheck/types.js";
import { DOCUMENTED_TAGS, findWarning, LOCAL_ONLY_TAGS } from "../warnings/catalog.js";
import { explainWarning } from "../warnings/explain.js";
import { BATCH_OPTIONS, wantsBatch } from "./batch/batch-options.js";
import { runCalibrate } from "./calibrate/run.js";
import {
  diditRequestOptions,
  IMAGE_FILE_OPTIONS,
  loadCommandConfig,
  parse,
  scoreOption,
  typedImagePath,
  usageError,
} from "./command-options.js";
import { CLI_COMMANDS, type CliCommand } from "./commands.js";
import { runDoctor } from "./doctor.js";
import { runFaceCommand } from "./face-commands.js";
import { figureText, scoreText } from "./figures.js";
import { type CliIO, EXIT } from "./io.js";
import { CLI_USAGE } from "./usage.js";

export { CLI_COMMANDS, type CliCommand, isCliCommand } from "./commands.js";
export { type CliIO, EXIT } from "./io.js";
export { CLI_USAGE } from "./usage.js";

/** Runs one scripted command; returns the exit code. Results go to out, errors to err. */
export async function runCli(command: CliCommand, argv: readonly string[], io: CliIO): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(commandHelp(command));
    return EXIT.approved;
  }
  if (command === "doctor") return runDoctor(argv, io);
  const redact = createRedactor([apiKeyInEnv(io.env)]);
  try {
    if (command === "check") return await runCheck(argv, io);
    if (command === "precheck") return await runPrecheck(argv, io);
    if (command === "calibrate") return await runCalibrate(argv, io);
    if (command === "match" || command === "verify") return await runFaceCommand(command, argv, io);
    if (command === "config") {
      // Lazily, like batch: only this command needs it.
      const { runHostConfig } = await import("./host-config.js");
      return await runHostConfig(argv, io);
    }
    return runExplain(argv, io);
  } catch (error) {
    const failure =
      error instanceof ConfigError
        ? new ToolFailure(
            "not_configured",
            error.message,
            "Fix the named environment variable and run again.",
          )
        : asToolFailure(error);
    io.err(`${redact(formatFailure(failure))}\n`);
    // Scripts that asked for JSON get the failure as JSON on stdout as well.
    if (argv.includes("--json")) {
      const { code, message, hint } = failure;
      io.out(`${redact(JSON.stringify({ error: { code, message, hint } }, null, 2))}\n`);
    }
    return isInputFailure(failure.code) ? EXIT.usage : EXIT.failure;
  }
}

/** One command's part of CLI_USAGE: its usage lines and its option block. */
export function commandHelp(command: CliCommand): string {
  const lines = CLI_USAGE.split("\n");
  const out: string[] = ["Usage:"];
  let inUsage = false;
  for (const line of lines) {
    if (line.startsWith("  didit-passive-liveness-mcp "))
      inUsage = line.startsWith(`  didit-passive-liveness-mcp ${command} `);
    else if (!line.startsWith("    ")) inUsage = false;
    if (inUsage) out.push(line);
  }
  const blockStart = lines.findIndex((l) => new RegExp(`^${command}\\s`).test(l));
  if (blockStart >= 0) {
    out.push("");
    for (const line of lines.slice(blockStart)) {
      if (out.length > 2 && line !== "" && !line.startsWith(" ") && !line.startsWith(command)) break;
      out.push(line);
    }
  }
  return `${out.join("\n").trimEnd()}\n`;
}

/** Names an unknown command and lists the real ones, in the standard error format. */
export function unknownCommand(word: string): ToolFailure {
  return new ToolFailure(
    "invalid_input",
    `Unknown command "${word}".`,
    `The commands are ${CLI_COMMANDS.join(", ")}; without a command the MCP server starts (see --help).`,
  );
}

async function runCheck(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, {
    threshold: { type: "string" },
    rotate: { type: "boolean" },
    "vendor-data": { type: "string" },
    metadata: { type: "string" },
    "no-save": { type: "boolean" },
    faces: { type: "boolean" },
    json: { type: "boolean" },
    sandbox: { type: "boolean" },
    ...IMAGE_FILE_OPTIONS,
    ...BATCH_OPTIONS,
  });
  if (positionals.length === 0)
    throw usageError("check needs an image path or URL (or several paths, for a batch).");
  const [image = ""] = positionals;
  const threshold = scoreOption(values.threshold, "--threshold");
  const requestOptions = diditRequestOptions(values);
  const config = await loadCommandConfig(io.env, values);
  const fields = {
    face_liveness_score_decline_threshold: threshold,
    ...requestOptions,
    include_face_attributes: values.faces === true,
  };
  if (await wantsBatch(positionals, values)) {
    const { runBatch } = await import("./batch/batch.js");
    return runBatch(config, fields, positionals, values, io);
  }
  const typed = /^https?:\/\//i.test(image) ? undefined : await typedImagePath(image);
  const client = selectLivenessClient(config);
  try {
    const result = await runLivenessCheck(
      {
        allowedDirs: async () => (typed ? [typed.dir] : []),
        allowHardlinks: config.allowHardlinks,
        urlPolicy: createUrlPolicy(config.allowedUrlHosts, config.urlAllowOnly),
        client,
        sandbox: config.sandbox,
      },
      {
        image_path: typed?.file,
        image_url: typed ? undefined : image,
        ...fields,
      },
      { signal: io.signal },
    );
    io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderAssessment(result));
    return result.status === "Approved" ? EXIT.approved : EXIT.declined;
  } finally {
    await client?.close();
  }
}

async function runPrecheck(argv: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, {
    rotate: { type: "boolean" },
    json: { type: "boolean" },
    ...IMAGE_FILE_OPTIONS,
  });
  if (positionals.length !== 1) throw usageError("precheck needs exactly one image path.");
  const config = await loadCommandConfig(io.env, { "allow-hardlinks": values["allow-hardlinks"] });
  const { dir, file } = await typedImagePath(positionals[0] ?? "");
  // The MCP tool's own pre-check, so --json is exactly the tool's structured result.
  const output = await precheckFaceImage(
    {
      allowedDirs: async () => [dir],
      allowHardlinks: config.allowHardlinks,
      precheckEngine: config.precheckModelsDir ? { modelsDir: config.precheckModelsDir } : undefined,
    },
    { image_path: file, rotate_image: values.rotate === true ? true : undefined },
    io.signal,
  );
  io.out(values.json ? `${JSON.stringify(output, null, 2)}\n` : renderPrecheck(output));
  return output.ready ? EXIT.approved : EXIT.declined;
}

function runExplain(argv: readonly string[], io: CliIO): number {
  const { values, positionals } = parse(argv, { json: { type: "boolean" } });
  if (positionals.length !== 1) throw usageError("explain needs exactly one warning tag.");
  const result = explainWarning(positionals[0] ?? "");
  if (!result.known) {
    // Local-only tags (the pre-check's) are explainable too, so they belong in the list.
    throw new ToolFailure(
      "invalid_input",
      `${result.tag} is not a known warning tag.`,
      `Known tags: ${[...DOCUMENTED_TAGS, ...LOCAL_ONLY_TAGS].join(", ")}.`,
    );
  }
  if (values.json) {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    io.out(
      [
        `${result.tag}: ${result.title}`,
        `Severity: ${result.severity}${result.declines ? " (declines the check)" : ""} · next action: ${result.next_action}`,
        "",
        result.explanation,
        "",
        "Likely causes:",
        ...result.likely_causes.map((c) => `  - ${c}`),
        "",
        `For the agent: ${result.agent_guidance}`,
        `For the person: ${result.user_message}`,
        "",
      ].join("\n"),
    );
  }
  return 0;
}

export function renderPrecheck(r: PrecheckOutput): string {
  const lines = [
    `Ready: ${r.ready ? "yes" : "no"} · next action: ${r.next_action} (local pre-check, nothing was uploaded)`,
    `Faces: ${r.faces_detected} · face quality: ${figureText(r.face_quality)} · face luminance: ${figureText(r.face_luminance)} (about 50 is normal)`,
    `Spoof estimate: ${r.spoof_estimate === null ? `n/a (${r.spoof_model})` : scoreText(r.spoof_estimate)} (advisory; only Didit's check decides liveness)${
      r.best_angle !== 0 ? ` · turned ${r.best_angle}°` : ""
    }${r.rotate_image_advised ? " · submit with --rotate" : ""}`,
    `Summary: ${r.summary}`,
  ];
  if (r.warnings.length > 0) {
    lines.push("Warnings:");
    for (const w of r.warnings) lines.push(`  - ${w.risk}: ${w.short_description}`);
  }
  lines.push(`Tell the person: ${r.user_message}`);
  return `${lines.join("\n")}\n`;
}

export function renderAssessment(r: LivenessAssessment): string {
  const lines = [
    ...(r.sandbox ? ["SANDBOX: mocked result, not a real verdict (nothing was uploaded)."] : []),
    `Verdict: ${r.status}${r.is_live ? " (live person)" : ""} · next action: ${r.next_action}`,
    `Score: ${scoreText(r.score)} · face quality: ${figureText(r.face_quality)} · face luminance: ${figureText(r.face_luminance)} (about 50 is normal)`,
    `Faces: ${r.faces_detected}${r.best_angle !== null && r.best_angle !== 0 ? ` · rotated ${r.best_angle}°` : ""} · request id: ${r.request_id}`,
    `Summary: ${r.summary}`,
  ];
  if (r.warnings.length > 0) {
    lines.push("Warnings:");
    for (const w of r.warnings) {
      const entry = findWarning(w.risk);
      lines.push(`  - ${w.risk} (${w.log_type}): ${entry?.title ?? w.short_description}`);
      lines.push(`      ${entry?.explanation ?? w.long_description}`);
      if (entry) lines.push(`      What to do: ${entry.user_message}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
