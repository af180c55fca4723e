import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Config, HttpConfig } from "../../config/config.js";
import { createInFlightLimit } from "../../core/in-flight.js";
import { collectGarbageSoon } from "../../core/reclaim-memory.js";
import { createRedactor } from "../../core/redact.js";
import { packageVersion } from "../../core/version.js";
import { selectLivenessClient } from "../../flows/liveness/select-client.js";
import { createServer } from "../../server/server.js";
import { TOOL_NAMES } from "../../server/tools/index.js";
import { type Caller, createAuthenticator } from "./auth.js";
import { discardBody, readJsonBody } from "./body.js";
import { createCallerBudgets, createCallerShares, createRequestSlots, type ShareScope } from "./budgets.js";
import { cancelledRequestId, createCallRegistry, requestId } from "./calls.js";
import { isHostAllowed, isOriginAllowed } from "./host-origin.js";
import { createJsonLogger } from "./json-log.js";
import { createHttpMetrics, instrumentClient } from "./metrics.js";

export const MCP_PATH = "/mcp";
/** A 5 MB image is ~7 MB of base64 inside a JSON-RPC message: 8 MB leaves room for the rest of the arguments. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;
const METADATA_PATH = "/.well-known/oauth-protected-resource";
/** Past the check's own deadline (retries included), time to read the image and write the answer. */
const DEADLINE_MARGIN_MS = 10_000;
/** How long a client may take to send its request headers (node:http's own timer). */
const HEADERS_TIMEOUT_MS = 20_000;

interface RequestLog {
  requestId: string;
  tokenId?: string;
  method?: string;
  tool?: string;
  outcome?: string;
}

/**
 * Remote mode: MCP Streamable HTTP at /mcp, stateless (a new McpServer and transport per request, the SDK's
 * documented pattern), so any replica can answer any request. Auth, Host/Origin checks, body limit, deadline,
 * budgets and an in-flight bound sit in front; /healthz, /readyz and /metrics beside it.
 */
export async function runHttp(config: Config): Promise<void> {
  const http = config.http as HttpConfig;
  const redact = createRedactor([config.apiKey, ...http.tokens, ...(http.sharedStore?.secrets ?? [])]);
  const logger = createJsonLogger(redact);
  const metrics = createHttpMetrics();
  const auth = createAuthenticator(http, logger);
  const onRefused = (scope: ShareScope) => metrics.rateLimited.inc({ scope });
  // DIDIT_REDIS_URL: budgets and 429 pauses shared by every replica. Without it nothing of Redis is even loaded.
  const shared = http.sharedStore
    ? await (await import("./shared-state/index.js")).openSharedState({
        store: http.sharedStore,
        apiKey: config.apiKey,
        perMinute: config.maxChecksPerMinute,
        perMinutePerCaller: http.maxChecksPerMinutePerToken,
        registry: metrics.registry,
        log: (level, message) => logger.log(level, message),
        onRefused,
      })
    : undefined;
  const baseClient = selectLivenessClient(config, shared ? { backoff: shared.backoff } : {});
  const client = baseClient ? instrumentClient(baseClient, metrics) : undefined;
  const budgets =
    shared?.budgets ??
    createCallerBudgets(config.maxChecksPerMinute, http.maxChecksPerMinutePerToken, onRefused);
  const deadlineMs = config.timeoutMs + DEADLINE_MARGIN_MS;
  const version = packageVersion();

  // One per-caller share mechanism for both: checks per minute (budgets) and requests in flight (slots).
  const slots = createRequestSlots(http.maxInFlight);
  const callerSlots = createCallerShares(slots, () => createRequestSlots(http.maxInFlightPerToken));
  const calls = createCallRegistry();
  const imageTools = createInFlightLimit(undefined, { onBurstOver: () => collectGarbageSoon() });
  let stopping = false;
  let drained: (() => void) | undefined;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, {
      "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
      ...(stopping ? { connection: "close" } : {}),
      ...headers,
    });
    res.end(text);
  };
  const rpcError = (code: number, message: string, id: string | number | null = null) => ({
    jsonrpc: "2.0",
    id,
    error: { code, message },
  });

  let listenAuthority = `${http.host}:${http.port}`;
  const namedHosts = http.allowedHosts.filter((h) => h !== "*");
  const audienceOrigin = webOrigin(http.oauth?.audience);
  /**
   * This server's origin as the client sees it (behind a TLS proxy, X-Forwarded-Proto says https). The Host is used
   * only when an allowed-hosts entry names it: the metadata is cacheable, so a forged Host must not end up in it.
   */
  const publicOrigin = (req: IncomingMessage) => {
    const proto = req.headers["x-forwarded-proto"] === "https" ? "https" : "http";
    const host = req.headers.host;
    if (host !== undefined && isHostAllowed(host, namedHosts)) return `${proto}://${host.toLowerCase()}`;
    return audienceOrigin ?? `http://${listenAuthority}`;
  };
  const resourceUrl = (req: IncomingMessage) => `${publicOrigin(req)}${MCP_PATH}`;
  const metadataUrl = (req: IncomingMessage) => `${publicOrigin(req)}${METADATA_PATH}${MCP_PATH}`;

  const handleMcp = async (req: IncomingMessage, res: ServerResponse, log: RequestLog) => {
    if (!isHostAllowed(req.headers.host, http.allowedHosts)) {
      send(res, 403, rpcError(-32000, "Forbidden: Host header not allowed"));
      log.outcome = "bad_host";
      return;
    }
    if (!isOriginAllowed(req.headers.origin, http.allowedHosts, http.allowedOrigins)) {
      send(res, 403, rpcError(-32000, "Forbidden: Origin not allowed"));
      log.outcome = "bad_origin";
      return;
    }
    const authResult = await auth.authenticate(req.headers.authorization);
    if (!authResult.ok) {
      const challenge = http.oauth
        ? `Bearer resource_metadata="${metadataUrl(req)}"${authResult.error === "invalid_token" ? ', error="invalid_token"' : ""}`
        : `Bearer realm="mcp"${authResult.error === "invalid_token" ? ', error="invalid_token"' : ""}`;
      send(
        res,
        authResult.status,
        rpcError(-32001, authResult.status === 401 ? "Unauthorized" : "Authorization server unavailable"),
        authResult.status === 401 ? { "www-authenticate": challenge } : { "retry-after": "5" },
      );
      log.outcome = `${authResult.error}:${authResult.reason}`;
      return;
    }
    log.tokenId = authResult.caller.tokenId;
    if (req.method !== "POST") {
      // Stateless: no standalone SSE stream (GET) and no session to delete (DELETE).
      send(
        res,
        405,
        rpcError(-32000, "Method not allowed: this server is stateless; POST JSON-RPC to /mcp"),
        {
          allow: "POST",
        },
      );
      log.outcome = "method_not_allowed";
      return;
    }
    if (stopping) {
      send(res, 503, rpcError(-32000, "Server is shutting down; retry on another replica"), {
        "retry-after": "1",
      });
      log.outcome = "shutting_down";
      return;
    }
    const share = callerSlots(authResult.caller.tokenId);
    const refused = share.reserve(1);
    if (refused?.scope === "token") {
      send(
        res,
        429,
        rpcError(
          -32000,
          `Too many requests from this token: ${http.maxInFlightPerToken} in flight (DIDIT_HTTP_MAX_IN_FLIGHT_PER_TOKEN)`,
        ),
        { "retry-after": "1" },
      );
      log.outcome = "busy_token";
      return;
    }
    if (refused) {
      send(res, 503, rpcError(-32000, `Server busy: ${http.maxInFlight} requests in flight`), {
        "retry-after": "1",
      });
      log.outcome = "busy";
      return;
    }
    metrics.inFlight.inc();
    try {
      await serveMcp(req, res, log, authResult.caller);
    } finally {
      share.release(1);
      metrics.inFlight.dec();
      if (slots.held === 0) drained?.();
    }
  };

  const serveMcp = async (req: IncomingMessage, res: ServerResponse, log: RequestLog, caller: Caller) => {
    const body = await readJsonBody(req, MAX_BODY_BYTES, http.bodyTimeoutMs);
    if (body.kind === "too_large") {
      const drained = await discardBody(req, 2 * MAX_BODY_BYTES);
      send(
        res,
        413,
        rpcError(-32600, `Request body larger than ${MAX_BODY_BYTES} bytes`),
        drained ? {} : { connection: "close" },
      );
      if (!drained) res.once("finish", () => req.destroy());
      log.outcome = "too_large";
      return;
    }
    if (body.kind === "timeout") {
      send(
        res,
        408,
        rpcError(
          -32600,
          `Request body not received within ${http.bodyTimeoutMs} ms (DIDIT_HTTP_BODY_TIMEOUT_MS)`,
        ),
        { connection: "close" },
      );
      res.once("finish", () => req.destroy());
      log.outcome = "body_timeout";
      return;
    }
    if (body.kind === "closed") {
      log.outcome = "client_closed";
      return;
    }
    if (body.kind === "not_json") {
      send(res, 400, rpcError(-32700, "Parse error: the body is not valid JSON"));
      log.outcome = "parse_error";
      return;
    }
    if (Array.isArray(body.value)) {
      // One message per request keeps the in-flight bound, the budgets and the log line per call.
      send(
        res,
        400,
        rpcError(
          -32600,
          "Invalid Request: JSON-RPC batches are not accepted (MCP 2025-06-18 removed them); send one message per request",
        ),
      );
      log.outcome = "batch_refused";
      return;
    }
    const message = body.value;
    describeMessage(message, log);
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) log.outcome = `cancel_${calls.cancel(caller.tokenId, cancelled)}`;

    let ended = false;
    const server = createServer({
      config,
      client,
      logger,
      redact,
      version,
      checkBudget: budgets(caller.tokenId),
      callerId: caller.tokenId,
      // One image-tool bound for the process, not one per request's server.
      inFlight: imageTools,
      onToolResult: (event) => {
        metrics.toolCalls.inc({ tool: event.tool, outcome: event.outcome });
        if (!ended) log.outcome = event.outcome;
      },
    });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      // JSON by default; SSE only when the client asked for progress, so the notifications have a stream.
      enableJsonResponse: !wantsProgress(message),
    });
    const closed = new Promise<void>((resolve) => res.once("close", resolve));
    res.once("close", () => {
      if (!res.writableFinished && !ended) log.outcome = "client_closed";
      ended = true;
    });
    /** Ends the request early: answers (unless the client is gone) and closes its server, aborting its handler. */
    const stop = (outcome: string, status: number, error: ReturnType<typeof rpcError>) => {
      if (ended) return;
      log.outcome = outcome;
      ended = true;
      send(res, status, error);
      void server.close().catch(() => {});
    };
    const id = requestId(message);
    const unregister =
      id === undefined
        ? () => {}
        : calls.add(caller.tokenId, id, () =>
            stop("cancelled", 200, rpcError(-32000, "Request cancelled by the client", id)),
          );
    const deadline = setTimeout(
      () => stop("deadline", 504, rpcError(-32001, `Request took longer than ${deadlineMs} ms`, id ?? null)),
      deadlineMs,
    );
    try {
      await server.connect(transport);
      const handled = transport.handleRequest(req, res, message);
      // In JSON mode the SDK never settles handleRequest once its transport is closed (deadline, cancel, a client
      // gone): the end of the response is what counts, and closing the server below aborts the handler.
      await Promise.race([handled.then(() => closed), closed]);
    } finally {
      clearTimeout(deadline);
      unregister();
      ended = true;
      // Closing the server aborts a handler still running (the client went away), and with it its upload.
      await transport.close().catch(() => {});
      await server.close().catch(() => {});
    }
  };

  const protectedResourceMetadata = (req: IncomingMessage) => ({
    resource: resourceUrl(req),
    authorization_servers: [http.oauth?.issuer],
    bearer_methods_supported: ["header"],
    resource_name: "Didit Passive Liveness MCP",
  });

  const route = async (req: IncomingMessage, res: ServerResponse, log: RequestLog): Promise<string> => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === MCP_PATH) {
      await handleMcp(req, res, log);
      return "mcp";
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, { error: "method_not_allowed" }, { allow: "GET" });
      return "other";
    }
    if (path === "/healthz") {
      send(res, 200, { status: "ok" });
      return "healthz";
    }
    if (path === "/readyz") {
      const store = (await shared?.readiness()) ?? {};
      const reason = stopping
        ? "shutting down"
        : !(config.sandbox || config.apiKey)
          ? "DIDIT_API_KEY is not set (and not in sandbox mode)"
          : (store.notReady ??
            (slots.held >= slots.max
              ? `saturated: ${slots.held} of ${slots.max} requests in flight (DIDIT_HTTP_MAX_IN_FLIGHT)`
              : undefined));
      send(
        res,
        reason ? 503 : 200,
        reason ? { status: "not_ready", reason } : { status: "ready", degraded: store.degraded },
      );
      return "readyz";
    }
    if (path === "/metrics") {
      send(res, 200, await metrics.registry.metrics(), { "content-type": metrics.registry.contentType });
      return "metrics";
    }
    if (http.oauth && (path === METADATA_PATH || path === `${METADATA_PATH}${MCP_PATH}`)) {
      send(res, 200, protectedResourceMetadata(req), {
        "cache-control": "max-age=3600",
        vary: "host, x-forwarded-proto",
      });
      return "metadata";
    }
    send(res, 404, { error: "not_found" });
    return "other";
  };

  const server = createHttpServer(
    // node:http's own backstop for receiving a request; our body deadline is the precise one. Never below the
    // headers timeout (node:http refuses to start then), whatever DIDIT_TIMEOUT_MS is.
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: HEADERS_TIMEOUT_MS + http.bodyTimeoutMs + 10_000 },
    (req, res) => {
      const started = performance.now();
      const log: RequestLog = { requestId: randomUUID() };
      res.setHeader("x-request-id", log.requestId);
      let routeName = "other";
      route(req, res, log)
        .then((name) => {
          routeName = name;
        })
        .catch((error: unknown) => {
          logger.log(
            "error",
            `request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          );
          if (!res.headersSent) send(res, 500, rpcError(-32603, "Internal error"));
          else res.end();
        })
        .finally(() => {
          metrics.httpRequests.inc({ route: routeName, status: String(res.statusCode) });
          // Probes and scrapes are not worth a line each; everything on /mcp is.
          if (routeName !== "mcp" && res.statusCode < 400) return;
          logger.event("info", "request", {
            request_id: log.requestId,
            token_id: log.tokenId,
            http_method: req.method,
            status: res.statusCode,
            method: log.method,
            tool: log.tool,
            outcome: log.outcome,
            duration_ms: Math.round(performance.now() - started),
          });
        });
    },
  );

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(http.port, http.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === "IPv6" ? `[${address.address}]` : address.address;
  listenAuthority = `${hostInUrl}:${address.port}`;
  const url = `http://${listenAuthority}${MCP_PATH}`;

  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.event("info", "shutting down", { signal, in_flight: slots.held, grace_ms: http.shutdownGraceMs });
    server.close();
    server.closeIdleConnections();
    const exit = (how: string) => {
      logger.event("info", "stopped", { how, in_flight: slots.held });
      void Promise.allSettled([client?.close(), shared?.close()]).finally(() => process.exit(0));
    };
    const timer = setTimeout(() => exit("grace period over"), http.shutdownGraceMs);
    drained = () => {
      clearTimeout(timer);
      exit("drained");
    };
    if (slots.held === 0) drained();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  logger.event("info", "ready", {
    url,
    version,
    mode: config.sandbox ? "sandbox" : config.apiKey ? "api key set" : "API key NOT set",
    auth: http.oauth
      ? "oauth"
      : http.tokens.length > 0
        ? `${http.tokens.length} static token(s)`
        : "none (loopback)",
    allowed_hosts: http.allowedHosts.join(","),
    shared_state: shared ? "redis" : "per process",
    image_path: config.allowedDirs.length > 0 ? config.allowedDirs.join(",") : "disabled",
    tools: config.tools?.join(",") ?? "all",
  });
}

/** The JSON-RPC method and tool name for the log line; only names we know, never free text from the body. */
function describeMessage(message: unknown, log: RequestLog): void {
  const m = message as { method?: unknown; params?: { name?: unknown } } | null;
  if (typeof m?.method === "string" && /^[a-z/_]{1,40}$/i.test(m.method)) log.method = m.method;
  const name = m?.params?.name;
  if (log.method === "tools/call")
    log.tool = typeof name === "string" && TOOL_NAMES.includes(name) ? name : "unknown";
}

function wantsProgress(message: unknown): boolean {
  const meta = (message as { params?: { _meta?: { progressToken?: unknown } } } | null)?.params?._meta;
  return meta?.progressToken !== undefined;
}

/** The origin of an http(s) URL (the OAuth audience is usually the public /mcp URL), else undefined. */
function webOrigin(value: string | undefined): string | undefined {
  if (value === undefined || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === "https:" || url.protocol === "http:" ? url.origin : undefined;
}
