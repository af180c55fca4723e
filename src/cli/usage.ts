import { envSettings } from "../config/config.js";
import { CALIBRATE_USAGE } from "./calibrate/run.js";

/** --help's lines for the environment variables (--http's own or the others), from the env schema's descriptions. */
function envBlock(http: boolean): string {
  return envSettings()
    .filter((setting) => setting.help !== undefined && (setting.http === true) === http)
    .map(({ name, help = [] }) => {
      const [first, ...more] = help;
      const head = name.length < 28 ? name.padEnd(28) : `${name}  `;
      return [`  ${head}${first ?? ""}`, ...more.map((line) => `${" ".repeat(30)}${line}`)].join("\n");
    })
    .join("\n");
}

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

/** `--help`: the server's flags and environment, then every command. */
export const SERVER_USAGE = `Usage: didit-passive-liveness-mcp [--allow-dir DIR]... [--allow-hardlinks] [--allow-url-host H]... [--sandbox]
                                  [--tools LIST]
       didit-passive-liveness-mcp --http [--host H] [--port P] [--allowed-host NAME]... [options above]

Runs the Didit Passive Liveness MCP server on stdio (what an MCP host starts), or with --http as a remote
MCP server (Streamable HTTP at /mcp, stateless) for hosted agents.

Options:
  --allow-dir DIR   Directory image_path may read from (repeatable; also DIDIT_ALLOWED_DIRS)
  --allow-hardlinks Read image files that have more than one hard link (also DIDIT_ALLOW_HARDLINKS=true)
  --allow-url-host H Host name, IP or CIDR image_url may also reach over http: and at private or loopback
                    addresses (repeatable, comma-separated; also DIDIT_ALLOWED_URL_HOSTS)
  --sandbox         Mocked offline results instead of Didit (also DIDIT_SANDBOX=1)
  --tools LIST      Serve only these tools: comma-separated names, or free (explain_warning, precheck_face_image:
                    they never upload, so never spend a credit); also DIDIT_TOOLS, which this replaces
  --http            Serve MCP over Streamable HTTP at /mcp instead of stdio
  --host H          Address to listen on with --http (default 127.0.0.1; others need DIDIT_MCP_TOKENS or OAuth)
  --port P          Port to listen on with --http (default 8080; 0 picks a free one)
  --allowed-host NAME  Host header accepted on /mcp (repeatable; also DIDIT_ALLOWED_HOSTS)
  --allowed-origin ORIGIN  Browser Origin accepted on /mcp (repeatable; also DIDIT_ALLOWED_ORIGINS)
  -h, --help        Show this help
  -v, --version     Show the version

Environment:
${envBlock(false)}

Environment, --http only:
${envBlock(true)}

CLI (commands; options may come before or after the command; <command> --help for one command):
${CLI_USAGE}`;
