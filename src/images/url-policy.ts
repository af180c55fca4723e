import { BlockList, isIP, isIPv4, isIPv6 } from "node:net";
import { ToolFailure } from "../core/errors.js";

/**
 * Which image URLs may be fetched: https to public addresses, plus the operator's listed hosts (names, IPs or
 * CIDRs), which may also use http and private or loopback addresses. With allowOnly, listed hosts only.
 */
export interface UrlPolicy {
  /** Lower-case host names, without a trailing dot. */
  readonly names: ReadonlySet<string>;
  /** Listed IPs and CIDRs. */
  readonly addresses: BlockList;
  readonly hasAddressEntries: boolean;
  readonly allowOnly: boolean;
}

export const ALLOW_URL_HOSTS_SETTING = "--allow-url-host / DIDIT_ALLOWED_URL_HOSTS";

/** Builds the policy; throws an Error naming the first entry that is not a host name, an IP or a CIDR. */
export function createUrlPolicy(entries: readonly string[], allowOnly = false): UrlPolicy {
  const names = new Set<string>();
  const addresses = new BlockList();
  let hasAddressEntries = false;
  for (const entry of entries) {
    const slash = entry.indexOf("/");
    if (slash !== -1) {
      const ip = unbracket(entry.slice(0, slash));
      const bits = entry.slice(slash + 1);
      const family = isIP(ip);
      const max = family === 6 ? 128 : 32;
      if (family === 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max) {
        throw new Error(`"${entry}" is not a valid CIDR (such as 10.0.0.0/8 or fd00::/8).`);
      }
      addresses.addSubnet(ip, Number(bits), family === 6 ? "ipv6" : "ipv4");
      hasAddressEntries = true;
    } else if (isIP(unbracket(entry)) !== 0) {
      const ip = unbracket(entry);
      addresses.addAddress(ip, isIPv6(ip) ? "ipv6" : "ipv4");
      hasAddressEntries = true;
    } else {
      names.add(validHostName(entry));
    }
  }
  return Object.freeze({
    names,
    addresses,
    hasAddressEntries,
    allowOnly,
  });
}

function validHostName(entry: string): string {
  let host: string;
  try {
    host = new URL(`http://${entry}/`).hostname;
  } catch {
    host = "";
  }
  const name = normalizeName(entry);
  // The URL parser lower-cases and may rewrite (IDNA, numeric IPv4); only plain names that survive it are taken.
  if (host === "" || normalizeName(host) !== name || !/^[a-z0-9.-]+$/.test(name)) {
    throw new Error(`"${entry}" is not a host name, an IP address or a CIDR.`);
  }
  return name;
}

function normalizeName(host: string): string {
  return host.toLowerCase().replace(/\.$/, "");
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** The host of a parsed URL as a name or a bare IP (the WHATWG parser has already canonicalised IPv4 spellings). */
export function urlHost(url: URL): string {
  return unbracket(url.hostname);
}

/** True when the host is listed by name, or is an IP inside a listed IP or CIDR. */
export function isListedHost(policy: UrlPolicy, host: string): boolean {
  if (isIP(host) !== 0) return isListedAddress(policy, host);
  return policy.names.has(normalizeName(host));
}

export function isListedAddress(policy: UrlPolicy, address: string): boolean {
  return policy.addresses.check(address, isIPv6(address) ? "ipv6" : "ipv4");
}

/** Where a URL may point: scheme, credentials and (in allow-only mode) the host; addresses are judged later. */
export function checkUrlSyntax(url: URL): void {
  if (url.username !== "" || url.password !== "") {
    throw notAllowed(
      url,
      "it carries a user name or password (user:pass@host); credentials in URLs are never sent",
      "Give a URL without credentials, e.g. a presigned link whose signature is in the query string.",
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw notAllowed(
      url,
      `its scheme is ${url.protocol.slice(0, 20)} and only https: is fetched`,
      "Give an https:// URL, or send the image as image_base64.",
    );
  }
}

const V4_RANGES: readonly [string, number, string][] = [
  ["0.0.0.0", 8, "unspecified ('this network') address"],
  ["10.0.0.0", 8, "private address"],
  ["100.64.0.0", 10, "carrier-grade NAT (shared) address"],
  ["127.0.0.0", 8, "loopback address"],
  ["169.254.0.0", 16, "link-local address (this range holds the cloud metadata service)"],
  ["172.16.0.0", 12, "private address"],
  ["192.0.0.0", 24, "reserved (IETF protocol) address"],
  ["192.0.2.0", 24, "reserved (documentation) address"],
  ["192.168.0.0", 16, "private address"],
  ["198.18.0.0", 15, "reserved (benchmarking) address"],
  ["198.51.100.0", 24, "reserved (documentation) address"],
  ["203.0.113.0", 24, "reserved (documentation) address"],
  ["224.0.0.0", 4, "multicast address"],
  ["255.255.255.255", 32, "broadcast address"],
  ["240.0.0.0", 4, "reserved address"],
];

const V6_RANGES: readonly [string, number, string][] = [
  ["::", 128, "unspecified address"],
  ["::1", 128, "loopback address"],
  ["fc00::", 7, "private (unique local) address"],
  ["fe80::", 10, "link-local address"],
  ["fec0::", 10, "private (site-local) address"],
  ["ff00::", 8, "multicast address"],
  ["100::", 64, "reserved (discard) address"],
  ["2001:db8::", 32, "reserved (documentation) address"],
  // Teredo tunnels carry an obfuscated IPv4 that cannot be judged reliably; nothing legitimate serves images there.
  ["2001::", 32, "Teredo tunnel address"],
];

/** One BlockList per range, so a refusal can name the rule; built once, on first use. */
let ranges: { list: BlockList; rule: string }[] | undefined;

function forbiddenRanges(): { list: BlockList; rule: string }[] {
  if (ranges === undefined) {
    ranges = [
      ...V4_RANGES.map(([ip, bits, rule]) => ({ ip, bits, rule, family: "ipv4" as const })),
      ...V6_RANGES.map(([ip, bits, rule]) => ({ ip, bits, rule, family: "ipv6" as const })),
    ].map(({ ip, bits, rule, family }) => {
      const list = new BlockList();
      list.addSubnet(ip, bits, family);
      return { list, rule };
    });
  }
  return ranges;
}

/**
 * Why an address may not be fetched from, or undefined when it is public. IPv6 forms that carry an IPv4 address
 * (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16)
 * are judged by the IPv4 address they reach.
 */
export function forbiddenAddressRule(address: string): string | undefined {
  if (isIPv4(address)) return rangeRule(address, "ipv4");
  if (!isIPv6(address)) return "not an IP address";
  const embedded = embeddedIPv4(address);
  if (embedded !== undefined) {
    const rule = rangeRule(embedded.v4, "ipv4");
    return rule === undefined ? undefined : `${embedded.form} of ${embedded.v4}, a ${rule}`;
  }
  return rangeRule(address, "ipv6");
}

function rangeRule(address: string, family: "ipv4" | "ipv6"): string | undefined {
  return forbiddenRanges().find((r) => r.list.check(address, family))?.rule;
}

/** The IPv4 address an IPv6 address stands for, when it is one of the forms that embed one. */
function embeddedIPv4(address: string): { v4: string; form: string } | undefined {
  const words = ipv6Words(address);
  if (words === undefined) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zero = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  const last = () => v4(words[6] ?? 0, words[7] ?? 0);
  if (zero(0, 5) && words[5] === 0xffff) return { v4: last(), form: "IPv4-mapped IPv6" };
  // ::a.b.c.d (deprecated IPv4-compatible); :: and ::1 themselves are judged as IPv6.
  if (zero(0, 6) && !(words[6] === 0 && (words[7] ?? 0) <= 1)) {
    return { v4: last(), form: "IPv4-compatible IPv6" };
  }
  if (words[0] === 0x64 && words[1] === 0xff9b && zero(2, 6)) return { v4: last(), form: "NAT64 IPv6" };
  if (words[0] === 0x64 && words[1] === 0xff9b && words[2] === 1) {
    return { v4: last(), form: "NAT64 (local-use) IPv6" };
  }
  if (words[0] === 0x2002) return { v4: v4(words[1] ?? 0, words[2] ?? 0), form: "6to4 IPv6" };
  return undefined;
}

/** The eight 16-bit words of a valid IPv6 address (zone id dropped, trailing dotted quad allowed). */
function ipv6Words(address: string): number[] | undefined {
  let text = address.split("%")[0] ?? "";
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((w) => Number.parseInt(w, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const words =
    tail === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff)
    ? words
    : undefined;
}

/** The scheme, host and port of a URL: what messages may show (a path or query may carry a signature). */
export function urlOrigin(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

export function notAllowed(url: URL, reason: string, hint: string): ToolFailure {
  return new ToolFailure("url_not_allowed", `Refused to fetch ${urlOrigin(url)}: ${reason}.`, hint);
}
