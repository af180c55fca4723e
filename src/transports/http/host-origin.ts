/**
 * DNS-rebinding and cross-origin defence for /mcp, as the MCP transport spec asks: a page in someone's browser
 * must not reach this server through a name that resolves to it, nor call it from its own origin.
 *
 * An allowed-hosts entry is a host name (any port) or `name:port` (that port only; `[v6]:port` for IPv6).
 */

interface Authority {
  /** Lower case, as a URL parser normalises it (IPv6 in brackets). */
  name: string;
  /** The port as written, or "" when none was. */
  port: string;
}

/** `name[:port]` or `[v6][:port]`, without anything else; undefined when malformed. */
function parseAuthority(value: string | undefined): Authority | undefined {
  if (value === undefined || value === "" || /[\s/?#@\\]/.test(value)) return undefined;
  const port = /^(?:\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(value)?.[1] ?? "";
  try {
    const name = new URL(`http://${port === "" ? value : value.slice(0, -port.length - 1)}`).hostname;
    if (name === "" || (port !== "" && Number(port) > 65_535)) return undefined;
    return { name: name.toLowerCase(), port: port === "" ? "" : String(Number(port)) };
  } catch {
    return undefined;
  }
}

/** The host name of a Host header value (`name[:port]`, `[v6]:port`), lower case; undefined when malformed. */
export function hostName(hostHeader: string | undefined): string | undefined {
  return parseAuthority(hostHeader)?.name;
}

/** Whether an entry covers this name and port; `ports` are those the request may have meant (a missing port: 80 or 443). */
function covers(entry: string, name: string, ports: readonly string[]): boolean {
  const allowed = parseAuthority(entry);
  if (allowed === undefined || allowed.name !== name) return false;
  return allowed.port === "" || ports.includes(allowed.port);
}

export function isHostAllowed(hostHeader: string | undefined, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.includes("*")) return true;
  const host = parseAuthority(hostHeader);
  if (host === undefined) return false;
  // Without a port the client used the scheme's default, and behind a TLS proxy we cannot tell which scheme.
  const ports = host.port === "" ? ["80", "443"] : [host.port];
  return allowedHosts.some((entry) => covers(entry, host.name, ports));
}

/**
 * No Origin (not a browser, e.g. an agent's HTTP client) is fine: the Host check and auth still apply. A browser
 * origin is accepted when listed exactly, or when an allowed host entry (not `*`) covers its host and port.
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
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return allowedHosts.some((entry) => entry !== "*" && covers(entry, url.hostname.toLowerCase(), [port]));
}
