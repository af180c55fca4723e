import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { formatBytes } from "../core/byte-size.js";
import { ToolFailure } from "../core/errors.js";
import {
  ALLOW_URL_HOSTS_SETTING,
  checkUrlSyntax,
  forbiddenAddressRule,
  isListedAddress,
  isListedHost,
  notAllowed,
  type UrlPolicy,
  urlHost,
  urlOrigin,
} from "./url-policy.js";

export const URL_FETCH_TIMEOUT_MS = 10_000;
export const URL_MAX_REDIRECTS = 3;

/** Resolves a host name to every address it has (dns.lookup with all: true); injectable for tests. */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

export interface UrlFetchOptions {
  policy: UrlPolicy;
  maxBytes: number;
  /** The caller's cancellation (the tool call's signal). */
  signal?: AbortSignal | undefined;
  /** One deadline for every hop and the body; default 10 s. */
  timeoutMs?: number | undefined;
  maxRedirects?: number | undefined;
  resolve?: Resolver | undefined;
  /** The input field that carried the URL (image_url, or a future user_image_url / ref_image_url), for messages. */
  field?: string | undefined;
}

export interface FetchedImage {
  bytes: Uint8Array;
  /** The URL the bytes finally came from, after redirects. */
  url: URL;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const REQUEST_HEADERS = {
  accept: "image/*",
  // No compression: the 5 MB cap applies to what is stored, and a tiny gzip cannot expand into a huge body.
  "accept-encoding": "identity",
  "user-agent": "didit-passive-liveness-mcp",
};

const defaultResolve: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Parses the URL text the way fetch would (WHATWG), so numeric IPv4 spellings are canonical before judging. */
export function parseImageUrl(text: string, field = "image_url"): URL {
  try {
    return new URL(text);
  } catch {
    throw new ToolFailure(
      "invalid_input",
      `${field} is not a valid absolute URL.`,
      `Give ${field} as a full https:// URL, e.g. https://cdn.example.com/selfie.jpg.`,
    );
  }
}

/**
 * Downloads an image from a URL under the SSRF rules (see url-policy.ts): every hop's host is resolved and
 * judged, and the connection goes to exactly the addresses judged (a pinned lookup), so a name that changes its
 * answer between check and connect (DNS rebinding) cannot reach anything else. Redirects are followed by hand,
 * each re-judged, at most 3; one deadline covers everything; the body is read up to maxBytes + 1 and no further.
 * No cookies, credentials or auth headers are ever sent.
 */
export async function fetchImageUrl(text: string, options: UrlFetchOptions): Promise<FetchedImage> {
  const field = options.field ?? "image_url";
  const timeoutMs = options.timeoutMs ?? URL_FETCH_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? URL_MAX_REDIRECTS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let url = parseImageUrl(text, field);
  const { Agent, request } = await import("undici");
  for (let redirects = 0; ; redirects++) {
    const addresses = await abortable(judgeUrl(url, options), signal, url, options, timeoutMs);
    const agent = new Agent({ connect: { lookup: pinnedLookup(addresses) }, connections: 1 });
    try {
      const response = await request(url, {
        method: "GET",
        headers: REQUEST_HEADERS,
        signal,
        dispatcher: agent,
      }).catch((error: unknown) => {
        throw fetchError(error, url, options, timeoutMs);
      });
      const { statusCode, headers, body } = response;
      // Destroying an unread body emits an abort error; it is expected, not a failure.
      body.on("error", () => {});
      if (REDIRECT_STATUSES.has(statusCode)) {
        body.destroy();
        if (redirects >= maxRedirects) {
          throw fetchFailed(url, `it redirected more than ${maxRedirects} times`);
        }
        url = redirectTarget(url, headers.location, statusCode);
        continue;
      }
      if (statusCode < 200 || statusCode > 299) {
        body.destroy();
        throw fetchFailed(url, `it answered HTTP ${statusCode}`, statusCode);
      }
      const declared = Number(headers["content-length"]);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        body.destroy();
        throw tooLarge(url, `declares ${formatBytes(declared)}`, options.maxBytes);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          size += chunk.byteLength;
          if (size > options.maxBytes) {
            body.destroy();
            throw tooLarge(url, `is over ${formatBytes(options.maxBytes)}`, options.maxBytes);
          }
          chunks.push(chunk);
        }
      } catch (error) {
        throw fetchError(error, url, options, timeoutMs);
      }
      return { bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size), url };
    } finally {
      agent.destroy().catch(() => {});
    }
  }
}

/** Judges one hop and returns the addresses the connection may use; throws url_not_allowed with the rule. */
async function judgeUrl(url: URL, options: UrlFetchOptions): Promise<readonly LookupAddress[]> {
  const { policy } = options;
  checkUrlSyntax(url);
  const host = urlHost(url);
  const family = isIP(host);
  let listed = isListedHost(policy, host);
  // Refuse what the name alone decides before asking DNS about it.
  if (!listed && family === 0 && !policy.hasAddressEntries) refuseUnlisted(url, policy);
  const addresses =
    family !== 0
      ? [{ address: host, family }]
      : await resolveHost(url, host, options.resolve ?? defaultResolve);
  if (!listed && family === 0) listed = addresses.every((a) => isListedAddress(policy, a.address));
  if (!listed) {
    refuseUnlisted(url, policy);
    for (const { address } of addresses) {
      const rule = forbiddenAddressRule(address);
      if (rule !== undefined) {
        throw notAllowed(
          url,
          family !== 0 ? `${host} is a ${rule}` : `${host} resolves to ${address}, a ${rule}`,
          `Only public addresses are fetched. If this host is yours and trusted, the operator can list it with ${ALLOW_URL_HOSTS_SETTING}; otherwise send the image as image_base64.`,
        );
      }
    }
  }
  return addresses;
}

/** The rules for a host that is not on the allow-list, apart from its addresses. */
function refuseUnlisted(url: URL, policy: UrlPolicy): void {
  if (policy.allowOnly) {
    throw notAllowed(
      url,
      "this server fetches only from the hosts on its URL allow-list (DIDIT_URL_ALLOW_ONLY=true) and this host is not on it",
      `Use an image hosted on an allowed host, send it as image_base64, or have the operator add the host to ${ALLOW_URL_HOSTS_SETTING}.`,
    );
  }
  if (url.protocol === "http:") {
    throw notAllowed(
      url,
      `plain http: is fetched only from the hosts on the URL allow-list (${ALLOW_URL_HOSTS_SETTING}), and https: otherwise`,
      "Give an https:// URL for the image, or send it as image_base64.",
    );
  }
}

async function resolveHost(url: URL, host: string, resolve: Resolver): Promise<readonly LookupAddress[]> {
  let addresses: readonly LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fetchFailed(url, `its host name does not resolve (${code ?? "DNS error"})`);
  }
  if (addresses.length === 0) throw fetchFailed(url, "its host name has no addresses");
  return addresses;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A lookup for net/tls.connect that answers only with the judged addresses, so no second DNS answer is used. */
function pinnedLookup(addresses: readonly LookupAddress[]) {
  return (
    _hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: LookupCallback,
  ) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const usable = addresses.filter((a) => wanted === 0 || a.family === wanted);
    const list = usable.length > 0 ? usable : addresses;
    if (options.all)
      callback(
        null,
        list.map((a) => ({ address: a.address, family: a.family })),
      );
    else callback(null, list[0]?.address ?? "", list[0]?.family ?? 4);
  };
}

function redirectTarget(from: URL, location: string | string[] | undefined, status: number): URL {
  const value = Array.isArray(location) ? location[0] : location;
  if (value === undefined || value === "") {
    throw fetchFailed(from, `it answered HTTP ${status} without a Location`, status);
  }
  try {
    return new URL(value, from);
  } catch {
    throw fetchFailed(from, `it answered HTTP ${status} with an invalid Location`, status);
  }
}

/** Races a step that cannot be aborted itself (DNS) against the call's signal and the deadline. */
function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  url: URL,
  options: UrlFetchOptions,
  timeoutMs: number,
): Promise<T> {
  if (signal.aborted) return Promise.reject(fetchError(signal.reason, url, options, timeoutMs));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(fetchError(signal.reason, url, options, timeoutMs));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function fetchError(error: unknown, url: URL, options: UrlFetchOptions, timeoutMs: number): ToolFailure {
  if (error instanceof ToolFailure) return error;
  if (options.signal?.aborted) {
    return new ToolFailure(
      "cancelled",
      `Fetching the image from ${urlOrigin(url)} was cancelled by the client. Nothing was sent to Didit.`,
      "Call again if the check is still wanted.",
    );
  }
  const err = error as { name?: string; code?: string; cause?: { code?: string } } | undefined;
  if (err?.name === "TimeoutError" || err?.name === "AbortError" || err?.code === "UND_ERR_ABORTED") {
    return fetchFailed(url, `it did not finish within ${timeoutMs / 1000} s`);
  }
  const code = err?.cause?.code ?? err?.code ?? err?.name ?? "error";
  return fetchFailed(url, `the connection failed (${String(code).slice(0, 60)})`);
}

function fetchFailed(url: URL, reason: string, status?: number): ToolFailure {
  return new ToolFailure(
    "url_fetch_failed",
    `Could not fetch the image from ${urlOrigin(url)}: ${reason}. Nothing was sent to Didit.`,
    status === 401 || status === 403 || status === 404 || status === 410
      ? "Check that the link is current and public (presigned links expire), or send the image as image_base64."
      : "Check the link and try again, or send the image as image_base64.",
  );
}

function tooLarge(url: URL, what: string, maxBytes: number): ToolFailure {
  return new ToolFailure(
    "too_large",
    `The image at ${urlOrigin(url)} ${what}, over Didit's limit of ${formatBytes(maxBytes)}; it was not downloaded further.`,
    "Link a resized or recompressed photo (Didit recompresses to about 0.5 MB anyway, so 1-2 MP is plenty).",
  );
}
