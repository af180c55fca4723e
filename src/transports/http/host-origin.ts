/**
 * DNS-rebinding and cross-origin defence for /mcp, as the MCP transport spec asks: a page in someone's browser
 * must not reach this server through a name that resolves to it, nor call it from its own origin.
 */

/** The host name of a Host header value (`name[:port]`, `[v6]:port`), lower case; undefined when malformed. */
export function hostName(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined || hostHeader === "" || /[\s/?#@\\]/.test(hostHeader)) return undefined;
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

export function isHostAllowed(hostHeader: string | undefined, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.includes("*")) return true;
  const name = hostName(hostHeader);
  return name !== undefined && allowedHosts.includes(name);
}

/**
 * No Origin (not a browser, e.g. an agent's HTTP client) is fine: the Host check and auth still apply. A browser
 * origin is accepted when listed exactly, or when its host name is one of the allowed host names (not `*`).
 */
export function isOriginAllowed(
  origin: string | undefined,
  allowedHosts: readonly string[],
  allowedOrigins: readonly string[],
): boolean {
  if (origin === undefined) return true;
  const normalized = origin.trim().replace(/\/+$/, "").toLowerCase();
  if (allowedOrigins.includes(normalized)) return true;
  let url: URL;
  try {
    url = new URL(normalized);
  } catch {
    return false; // includes the opaque origin "null"
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  return allowedHosts.includes(url.hostname.toLowerCase());
}
