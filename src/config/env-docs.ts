// What each environment variable means, beside the schema that reads it (config.ts attaches these as zod .meta()):
// the --help environment block, the README's Configuration rows and server.json's environmentVariables are
// rendered from here.

export interface EnvDoc {
  /** --help's line(s) for it; absent: --help leaves it out. */
  readonly help?: readonly string[];
  /** server.json's description. */
  readonly description: string;
  /** The README's Configuration table row (markdown): its Default and Meaning cells; absent: HTTP-only, in docs/remote.md. */
  readonly readme?: { readonly default: string; readonly meaning: string };
  readonly format: "string" | "number" | "boolean" | "filepath";
  readonly default?: string;
  readonly secret?: boolean;
  /** Read only with --http: listed in --help's own block. */
  readonly http?: boolean;
}

export const ENV_DOCS = {
  DIDIT_API_KEY: {
    readme: {
      default: "none",
      meaning:
        "Didit API key, needed for checks only (else `not_configured`); a space, control or non-ASCII character stops start-up.",
    },
    help: ["Didit API key (needed for checks, not for start-up)"],
    description:
      "Didit API key (Business Console, API & Webhooks). Needed for checks, not for start-up: without it the server starts and checks answer not_configured.",
    format: "string",
    secret: true,
  },
  DIDIT_BASE_URL: {
    readme: {
      default: "`https://verification.didit.me`",
      meaning:
        "API origin, plus a proxy's path prefix if any; `https` (`http` only to this machine; [rules](docs/configuration.md)).",
    },
    help: ["API origin (default https://verification.didit.me)"],
    description: "Didit API origin.",
    format: "string",
    default: "https://verification.didit.me",
  },
  DIDIT_TIMEOUT_MS: {
    readme: { default: "`30000`", meaning: "One deadline per check, retries included (1000-300000)." },
    help: ["Deadline per check in ms (default 30000)"],
    description: "One deadline per check in milliseconds, retries included (1000-300000).",
    format: "number",
    default: "30000",
  },
  DIDIT_ALLOWED_DIRS: {
    readme: {
      default: "none",
      meaning:
        "More allowed directories, separated by the OS path delimiter (`:` on macOS/Linux, `;` on Windows).",
    },
    help: ["Allowed image directories, separated by the OS path delimiter"],
    description:
      "More directories image_path may read from, separated by the OS path delimiter (':' on macOS/Linux, ';' on Windows).",
    format: "string",
  },
  DIDIT_MAX_CHECKS_PER_MINUTE: {
    readme: {
      default: "`30`",
      meaning:
        "Checks this process sends per minute (1-10000); beyond it `rate_limited` without calling Didit.",
    },
    help: ["Checks allowed per minute in this process (default 30)"],
    description:
      "Checks this process sends per minute (1-10000); beyond it checks answer rate_limited without calling Didit.",
    format: "number",
    default: "30",
  },
  DIDIT_CONFIRM_UPLOADS: {
    readme: {
      default: "`false`",
      meaning: "`true`: ask the user (MCP elicitation) before each upload; no consent, no upload.",
    },
    help: ["true: ask the user (MCP elicitation) before each upload"],
    description:
      "true: ask the user (MCP elicitation) before each upload; a decline, or a client that cannot ask, means no upload.",
    format: "boolean",
    default: "false",
  },
  DIDIT_SANDBOX: {
    readme: { default: "`false`", meaning: "`true`: same as `--sandbox`." },
    help: ["1/true: same as --sandbox"],
    description:
      "true: mocked, offline results instead of Didit (same as --sandbox); nothing is uploaded and no key is needed.",
    format: "boolean",
    default: "false",
  },
  DIDIT_PRECHECK_MODELS_DIR: {
    readme: {
      default: "the package's `models/minifasnet`",
      meaning:
        "Folder holding `MiniFASNetV2.onnx` and `MiniFASNetV1SE.onnx` for the pre-check's spoof estimate; missing or incomplete stops start-up.",
    },
    help: [
      "Folder with the MiniFASNet ONNX files for precheck_face_image's spoof estimate",
      "(default: the copies shipped in the package)",
    ],
    description:
      "Folder with MiniFASNetV2.onnx and MiniFASNetV1SE.onnx for the on-device pre-check's advisory spoof estimate (default: the copies shipped in the package).",
    format: "filepath",
  },
  DIDIT_ALLOW_HARDLINKS: {
    readme: { default: "`false`", meaning: "`true`: same as `--allow-hardlinks`." },
    help: ["true: same as --allow-hardlinks"],
    description:
      "true: read image files that have more than one hard link (same as --allow-hardlinks); off, they are refused, since another link may be outside the allowed directories.",
    format: "boolean",
    default: "false",
  },
  DIDIT_ALLOWED_URL_HOSTS: {
    readme: { default: "none", meaning: "More `--allow-url-host` entries, comma-separated." },
    help: ["Same as --allow-url-host, comma-separated"],
    description:
      "Comma-separated host names, IPs or CIDRs that image_url may also reach over http: and at private or loopback addresses (same as --allow-url-host). Others: https to public addresses only.",
    format: "string",
  },
  DIDIT_URL_ALLOW_ONLY: {
    readme: { default: "`false`", meaning: "`true`: `image_url` may fetch only from the listed hosts." },
    help: ["true: image_url may fetch only from the listed hosts"],
    description: "true: image_url may fetch only from the hosts in DIDIT_ALLOWED_URL_HOSTS.",
    format: "boolean",
    default: "false",
  },
  DIDIT_VIEW_THUMBNAILS: {
    readme: {
      default: "`true`",
      meaning: "`false`: the [verdict view](docs/view.md) shows no photo thumbnail.",
    },
    description:
      "false: the verdict view (MCP Apps) shows no thumbnail of the photo, and the server holds none in memory for it.",
    format: "boolean",
    default: "true",
  },
  DIDIT_TOOLS: {
    readme: { default: "all", meaning: "Same as `--tools` (the flag wins)." },
    help: ["Same as --tools (default: every tool)"],
    description:
      "Same as --tools: comma-separated tool names, or free (explain_warning and precheck_face_image only: a no-spend server). Default: every tool; --tools replaces it.",
    format: "string",
  },
  DIDIT_MCP_TOKENS: {
    help: ["Comma-separated static bearer tokens clients must send"],
    description:
      "With --http: comma-separated static bearer tokens (16+ characters each) clients must send as Authorization: Bearer; compared in constant time, never logged.",
    format: "string",
    secret: true,
    http: true,
  },
  DIDIT_MCP_OAUTH_ISSUER: {
    help: ["OAuth issuer whose JWT access tokens are accepted (with DIDIT_MCP_OAUTH_AUDIENCE)"],
    description:
      "With --http: OAuth 2.1 issuer whose JWT access tokens are accepted (keys found from its metadata); https, or http on loopback only.",
    format: "string",
    http: true,
  },
  DIDIT_MCP_OAUTH_AUDIENCE: {
    help: ["Audience those tokens must carry"],
    description:
      "With --http: the audience (aud) those access tokens must carry, usually this server's public /mcp URL.",
    format: "string",
    http: true,
  },
  DIDIT_ALLOWED_HOSTS: {
    help: [
      'Comma-separated Host names (any port) or name:port accepted ("*": any); default loopback names or --host',
    ],
    description:
      "With --http: comma-separated Host names /mcp answers (DNS rebinding defence); default the loopback names, or the --host name; required when bound to 0.0.0.0 ('*' accepts any).",
    format: "string",
    http: true,
  },
  DIDIT_ALLOWED_ORIGINS: {
    help: ["Comma-separated browser origins accepted"],
    description:
      "With --http: comma-separated browser origins allowed to call /mcp besides those on an allowed host name.",
    format: "string",
    http: true,
  },
  DIDIT_SHUTDOWN_GRACE_MS: {
    help: ["How long SIGTERM waits for in-flight requests (default 10000)"],
    description: "With --http: on SIGTERM, how long in-flight requests may finish before exit (0-600000).",
    format: "number",
    default: "10000",
    http: true,
  },
  DIDIT_MAX_CHECKS_PER_MINUTE_PER_TOKEN: {
    help: ["Each token's share of the per-minute budget (default: the same number)"],
    description:
      "With --http: each caller's (token's) share of the per-minute check budget; default the same as DIDIT_MAX_CHECKS_PER_MINUTE.",
    format: "number",
    http: true,
  },
  DIDIT_HTTP_MAX_IN_FLIGHT: {
    help: ["MCP requests handled at once; more get 503 (default 64)"],
    description:
      "With --http: MCP requests one process handles at once; more are answered 503 with Retry-After (1-10000).",
    format: "number",
    default: "64",
    http: true,
  },
  DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN: {
    help: ["Each token's share of those; more get 429 (default: half)"],
    description:
      "With --http: requests one token may have in flight at once; more are answered 429 with Retry-After (1-10000; default half of DIDIT_HTTP_MAX_IN_FLIGHT).",
    format: "number",
    http: true,
  },
  DIDIT_HTTP_BODY_TIMEOUT_MS: {
    help: ["How long a request body may take to arrive; then 408 (default 10000)"],
    description:
      "With --http: how long a request body may take to arrive once its headers are in; past it 408 (1000-300000).",
    format: "number",
    default: "10000",
    http: true,
  },
  DIDIT_REDIS_URL: {
    help: ["redis:// or rediss:// URL: one budget (and Didit's 429 pauses) for every replica"],
    description:
      "With --http: redis:// or rediss:// URL of a Redis shared by every replica, so they keep one budget, one per-token share and Didit's 429 pauses together; never logged.",
    format: "string",
    secret: true,
    http: true,
  },
  DIDIT_REDIS_FALLBACK_PER_MINUTE: {
    help: ["Checks per minute each process may make alone while Redis is down (default: none)"],
    description:
      "With --http and DIDIT_REDIS_URL: checks per minute each process may make on its own while Redis cannot be reached (N replicas: N times it); unset, paid checks are refused then.",
    format: "number",
    http: true,
  },
} as const satisfies Record<string, EnvDoc>;
