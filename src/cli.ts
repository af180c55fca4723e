import { CALIBRATE_USAGE, runCalibrate } from "./calibrate/run.js";
import type { BatchIO } from "./cli/batch.js";
import { BATCH_OPTIONS, wantsBatch } from "./cli/batch-options.js";
import {
  diditRequestOptions,
  IMAGE_FILE_OPTIONS,
  loadCommandConfig,
  parse,
  scoreOption,
  typedImagePath,
  usageError,
} from "./cli/command-options.js";
import { runDoctor } from "./cli/doctor.js";
import { runFaceCommand } from "./cli/face-commands.js";
import { figureText, scoreText } from "./cli/figures.js";
import { ConfigError } from "./config.js";
import { asToolFailure, formatFailure, isInputFailure, ToolFailure } from "./errors.js";
import { createUrlPolicy } from "./images/url-policy.js";
import { runLivenessCheck } from "./liveness/check.js";
import type { LivenessAssessment } from "./liveness/result.js";
import { selectLivenessClient } from "./liveness/select-client.js";
import { precheckFaceImage } from "./precheck/check.js";
import type { PrecheckOutput } from "./precheck/types.js";
import { createRedactor } from "./redact.js";
import { DOCUMENTED_TAGS, findWarning, LOCAL_ONLY_TAGS } from "./warnings/catalog.js";
import { explainWarning } from "./warnings/explain.js";

/** Exit codes scripts can branch on (precheck: 0 ready, 1 not ready, 3 also when the engine is not installed). */
export const EXIT = { approved: 0, declined: 1, usage: 2, failure: 3 } as const;

export const CLI_USAGE = `Usage:
  didit-passive-liveness-mcp check <image or https URL> [--threshold N] [--rotate] [--vendor-data S]
                                   [--metadata JSON] [--no-save] [--faces] [--json] [--sandbox]
                                   [--allow-hardlinks]
  didit-passive-liveness-mcp check <file|dir|glob|->... [--recursive] [--concurrency N] [--out FILE]
                                   [--format jsonl|csv] [--resume] [--dry-run] [--yes] [--precheck]
                                   [--max-credits N] [per-check options above]
  didit-passive-liveness-mcp precheck <image> [--rotate] [--json]
  didit-passive-liveness-mcp match <user_image> <ref_image> [--threshold N] [--rotate] [--no-save]
                                   [--vendor-data S] [--json] [--sandbox]
  didit-passive-liveness-mcp verify <selfie> <reference> [--liveness-threshold N] [--match-threshold N]
                                    [--rotate] [--no-save] [--vendor-data S] [--precheck] [--json] [--sandbox]
  didit-passive-liveness-mcp explain <TAG> [--json]
  didit-passive-liveness-mcp doctor [--json] [--allow-dir DIR]... [--sandbox]
  didit-passive-liveness-mcp config <claude-desktop|claude-code|cursor|vscode|openclaw> [--allow-dir DIR]...
                                    [--sandbox]
${CALIBRATE_USAGE}

check    Uploads the image (JPEG/PNG/WebP/TIFF, <= 5 MB) to Didit's Passive Liveness API (one credit).
         An http(s) URL is downloaded first, under the server's image_url rules (DIDIT_ALLOWED_URL_HOSTS).
         --threshold N     decline at or below this liveness score (0-100; Didit's default 30)
         --rotate          let Didit try 90-degree rotations
         --vendor-data S   your id for the person (in sandbox mode, sandbox:<outcome> picks the outcome)
         --metadata JSON   a JSON object stored with the check
         --no-save         do not store the check in Didit's Business Console
         --faces           include estimated age and gender per face
         --json            print exactly the MCP tool's structured result
         --sandbox         mocked offline result (also DIDIT_SANDBOX=1); nothing is uploaded
         --allow-hardlinks read image files with more than one hard link (also DIDIT_ALLOW_HARDLINKS=true)
         With --json, a failure is also printed as {"error": {code, message, hint}} on stdout.
batch    Several images, a directory (.jpg/.jpeg/.png/.webp/.tif/.tiff), a glob (*, ?, **) or - (paths on
         stdin, one per line): one row per input, written as each check finishes.
         --recursive       search directories' subdirectories too
         --concurrency N   checks at once (default 4, max 16)
         --out FILE        append rows to FILE instead of stdout, in the format FILE already has
         --format F        jsonl (default: {input, sha256, ok, uploaded, result | error, elapsed_ms}) or csv
                           (input,sha256,status,next_action,score,warnings,error_code,request_id; a cell
                           starting with = + - @, tab or CR gets a leading ' so no spreadsheet runs it)
         --resume          skip inputs whose sha256 has a verdict row in --out; failed rows are redone
         --dry-run         validate every input locally (path, size, type, --precheck); upload nothing
         --yes             confirm a spend above 10 credits (asked on a terminal, refused otherwise)
         --precheck        run the on-device pre-check first; not-ready inputs get a row, "uploaded": false
         --max-credits N   stop cleanly after N uploads
         Ctrl-C starts nothing new and lets uploads in flight finish (a second Ctrl-C cancels them).
precheck Checks the photo on this machine (free, nothing is uploaded) with the optional on-device engine:
         faces, light, sharpness, rotation and an advisory spoof estimate; says whether it is worth a credit.
         --rotate          also try the photo turned 90, 180 and 270 degrees
         --json            print exactly the MCP tool's structured result
match    Uploads both images to Didit's Face Match API (one credit); approved only strictly above --threshold.
verify   Liveness on the selfie, then only if it passes a face match against the reference (two credits,
         one when the match is skipped); --precheck checks both photos on this machine first.
explain  Explains a warning tag offline (case-insensitive).
calibrate  Error rates (BPCER, APCER per attack type) at every threshold on your labelled images and a
         recommended threshold; --engine didit (default) costs one credit per new image and asks first
         (--yes when not on a terminal); --engine local is free and offline. See docs/calibrate.md.
doctor   Checks the set-up (key set and accepted by Didit, API reachable, dirs, pre-check engine) without
         spending a credit; --json prints one report of {name, status: ok|warn|fail, message} checks.
config   Prints the host's MCP configuration for this copy (its Node.js and dist/index.js, absolute; the key as a
         placeholder; each --allow-dir made absolute) to paste into Claude Desktop, Claude Code, Cursor, VS Code
         or OpenClaw.

Exit codes: check, match: 0 Approved, 1 Declined; verify: 0 identity verified, 1 not verified;
            precheck: 0 ready, 1 not ready (retake); calibrate: 0 done;
            2 usage or input error (calibrate: also a missing --yes off a terminal); 3 configuration or API
            error, or the pre-check engine is not installed.
Batch exit codes: 0 every input got a verdict, 2 an input was refused locally (or skipped by --precheck),
3 a check failed on the API side (takes precedence over 2), 130 interrupted.
`;

export interface CliIO extends BatchIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export const CLI_COMMANDS = [
  "check",
  "precheck",
  "explain",
  "doctor",
  "calibrate",
  "match",
  "verify",
  "config",
] as const;
export type CliCommand = (typeof CLI_COMMANDS)[number];

export function isCliCommand(word: string | undefined): word is CliCommand {
  return (CLI_COMMANDS as readonly (string | undefined)[]).includes(word);
}

/** Runs one scripted command; returns the exit code. Results go to out, errors to err. */
export async function runCli(command: CliCommand, argv: readonly string[], io: CliIO): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(commandHelp(command));
    return EXIT.approved;
  }
  if (command === "doctor") return runDoctor(argv, io);
  const redact = createRedactor([io.env.DIDIT_API_KEY]);
  try {
    if (command === "check") return await runCheck(argv, io);
    if (command === "precheck") return await runPrecheck(argv, io);
    if (command === "calibrate") return await runCalibrate(argv, io);
    if (command === "match" || command === "verify") return await runFaceCommand(command, argv, io);
    if (command === "config") {
      // Lazily, like batch: only this command needs it.
      const { runHostConfig } = await import("./cli/host-config.js");
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
    const { runBatch } = await import("./cli/batch.js");
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
