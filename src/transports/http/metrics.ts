import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { asToolFailure } from "../../core/errors.js";
import type { DiditClient } from "../../didit/client.js";

/**
 * Prometheus metrics for one process, on a Registry of its own (never prom-client's global one). Labels are
 * bounded: tool names, outcomes (verdicts and error codes), HTTP routes and statuses; never input or output data.
 */
export function createHttpMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "didit_mcp_" });
  const toolCalls = new Counter({
    name: "didit_mcp_tool_calls_total",
    help: "Tool calls by tool and outcome (approved, declined, ok, or the error code).",
    labelNames: ["tool", "outcome"] as const,
    registers: [registry],
  });
  const upstreamLatency = new Histogram({
    name: "didit_mcp_upstream_latency_seconds",
    help: "Time from sending a check to Didit to its answer (retries included).",
    buckets: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: "didit_mcp_upstream_errors_total",
    help: "Checks Didit did not answer with a verdict, by error code.",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "didit_mcp_http_in_flight",
    help: "MCP requests being handled now.",
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: "didit_mcp_rate_limit_refusals_total",
    help: "Checks refused by DIDIT_MAX_CHECKS_PER_MINUTE, by scope (token or process).",
    labelNames: ["scope"] as const,
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: "didit_mcp_http_requests_total",
    help: "HTTP requests by route and status.",
    labelNames: ["route", "status"] as const,
    registers: [registry],
  });
  return { registry, toolCalls, upstreamLatency, upstreamErrors, inFlight, rateLimited, httpRequests };
}

export type HttpMetrics = ReturnType<typeof createHttpMetrics>;

/** The same client, timed: latency of every upstream call and the error code of each that failed. */
export function instrumentClient(client: DiditClient, metrics: HttpMetrics): DiditClient {
  const timed = async <T>(call: () => Promise<T>): Promise<T> => {
    const stop = metrics.upstreamLatency.startTimer();
    try {
      return await call();
    } catch (error) {
      metrics.upstreamErrors.inc({ code: asToolFailure(error).code });
      throw error;
    } finally {
      stop();
    }
  };
  return {
    checkPassiveLiveness: (image, params, call) =>
      timed(() => client.checkPassiveLiveness(image, params, call)),
    matchFaces: (userImage, refImage, params, call) =>
      timed(() => client.matchFaces(userImage, refImage, params, call)),
    close: () => client.close(),
  };
}
