import { readFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fetchImageUrl, type Resolver, type UrlFetchOptions } from "../../src/images/url-fetch.js";
import { createUrlPolicy, forbiddenAddressRule, type UrlPolicy } from "../../src/images/url-policy.js";
import { rejectionOf } from "../support/expectations.js";
import { type ImageServer, redirectTo, serveBytes, startImageServer } from "../support/image-server.js";

const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/syn_astronaut.jpg");
const MAX = 5 * 1024 * 1024;

let jpeg: Buffer;
let server: ImageServer;

/** A resolver that must not be asked: IP literals and refusals decided by the URL alone never reach DNS. */
const noDns: Resolver = async (name) => {
  throw new Error(`DNS was asked about ${name}`);
};

/** A resolver answering from a table, counting the questions. */
function fakeDns(table: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (name: string) => {
    asked.push(name);
    const answer = table[name];
    if (!answer) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    return answer.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

function fetchWith(url: string, policy: UrlPolicy, extra: Partial<UrlFetchOptions> = {}) {
  return fetchImageUrl(url, { policy, maxBytes: MAX, resolve: noDns, ...extra });
}

const open = createUrlPolicy([]);
const loopbackListed = () => createUrlPolicy(["127.0.0.1"]);

beforeAll(async () => {
  jpeg = await readFile(FIXTURE);
  server = await startImageServer();
  server.route("/face.jpg", serveBytes(jpeg));
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
});

describe("forbiddenAddressRule", () => {
  it.each([
    ["127.0.0.1", /loopback/],
    ["127.255.255.254", /loopback/],
    ["::1", /loopback/],
    ["10.1.2.3", /private/],
    ["172.16.0.1", /private/],
    ["172.31.255.255", /private/],
    ["192.168.0.1", /private/],
    ["fc00::1", /private/],
    ["fd12:3456::1", /private/],
    ["169.254.169.254", /link-local.*metadata/],
    ["169.254.0.1", /link-local/],
    ["fe80::1", /link-local/],
    ["febf::1", /link-local/],
    ["100.64.0.1", /carrier-grade NAT/],
    ["100.127.255.255", /carrier-grade NAT/],
    ["224.0.0.1", /multicast/],
    ["239.255.255.250", /multicast/],
    ["ff02::1", /multicast/],
    ["0.0.0.0", /unspecified/],
    ["::", /unspecified/],
    ["255.255.255.255", /broadcast/],
    ["::ffff:127.0.0.1", /IPv4-mapped IPv6 of 127\.0\.0\.1, a loopback/],
    ["::ffff:7f00:1", /IPv4-mapped IPv6 of 127\.0\.0\.1, a loopback/],
    ["::ffff:a9fe:a9fe", /IPv4-mapped IPv6 of 169\.254\.169\.254/],
    ["::127.0.0.1", /IPv4-compatible IPv6 of 127\.0\.0\.1/],
    ["64:ff9b::10.0.0.1", /NAT64 IPv6 of 10\.0\.0\.1, a private/],
    ["64:ff9b::a9fe:a9fe", /NAT64 IPv6 of 169\.254\.169\.254/],
    ["64:ff9b:1::7f00:1", /NAT64 \(local-use\) IPv6 of 127\.0\.0\.1/],
    ["2002:7f00:1::", /6to4 IPv6 of 127\.0\.0\.1/],
    ["2002:c0a8:101::1", /6to4 IPv6 of 192\.168\.1\.1/],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", /Teredo/],
  ])("refuses %s (%s)", (address, rule) => {
    expect(forbiddenAddressRule(address)).toMatch(rule);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "169.255.0.1",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ])("lets the public address %s through", (address) => {
    expect(forbiddenAddressRule(address)).toBeUndefined();
  });
});

describe("fetchImageUrl refuses forbidden addresses before connecting", () => {
  it.each([
    ["https://127.0.0.1/a.jpg", /127\.0\.0\.1 is a loopback/],
    ["https://2130706433/a.jpg", /127\.0\.0\.1 is a loopback/],
    ["https://0x7f.1/a.jpg", /127\.0\.0\.1 is a loopback/],
    ["https://0177.0.0.1/a.jpg", /127\.0\.0\.1 is a loopback/],
    ["https://127.1/a.jpg", /127\.0\.0\.1 is a loopback/],
    ["https://%31%32%37.0.0.1/a.jpg", /127\.0\.0\.1 is a loopback/],
    ["https://[::1]/a.jpg", /loopback/],
    ["https://[::ffff:127.0.0.1]/a.jpg", /IPv4-mapped IPv6 of 127\.0\.0\.1/],
    ["https://[::ffff:7f00:1]/a.jpg", /IPv4-mapped IPv6 of 127\.0\.0\.1/],
    ["https://[::127.0.0.1]/a.jpg", /IPv4-compatible/],
    ["https://[64:ff9b::10.0.0.1]/a.jpg", /NAT64 IPv6 of 10\.0\.0\.1/],
    ["https://[2002:a9fe:a9fe::]/a.jpg", /6to4 IPv6 of 169\.254\.169\.254/],
    ["https://169.254.169.254/latest/meta-data/", /link-local.*metadata/],
    ["https://[fe80::1]/a.jpg", /link-local/],
    ["https://10.0.0.1/a.jpg", /private/],
    ["https://172.16.5.4/a.jpg", /private/],
    ["https://192.168.1.1/a.jpg", /private/],
    ["https://[fd00::1]/a.jpg", /private/],
    ["https://100.64.1.1/a.jpg", /carrier-grade NAT/],
    ["https://224.0.0.251/a.jpg", /multicast/],
    ["https://[ff02::1]/a.jpg", /multicast/],
    ["https://0.0.0.0/a.jpg", /unspecified/],
    ["https://0/a.jpg", /unspecified/],
    ["https://[::]/a.jpg", /unspecified/],
    ["https://255.255.255.255/a.jpg", /broadcast/],
  ])("%s", async (url, rule) => {
    const f = await rejectionOf(fetchWith(url, open));
    expect(f.code).toBe("url_not_allowed");
    expect(f.message).toMatch(rule);
    expect(f.hint).toContain("--allow-url-host");
  });

  it("refuses a name that resolves to loopback, and never connects to it", async () => {
    const dns = fakeDns({ "innocent.example": [`127.0.0.1`] });
    const url = `https://innocent.example:${server.port}/face.jpg`;
    const f = await rejectionOf(fetchWith(url, open, { resolve: dns }));
    expect(f.code).toBe("url_not_allowed");
    expect(f.message).toContain("innocent.example resolves to 127.0.0.1, a loopback address");
    expect(dns.asked).toEqual(["innocent.example"]);
    expect(server.requests).toHaveLength(0);
  });

  it("refuses a name when any one of its addresses is forbidden", async () => {
    const dns = fakeDns({ "mixed.example": ["8.8.8.8", "2606:4700::1", "10.0.0.7"] });
    const f = await rejectionOf(fetchWith("https://mixed.example/a.jpg", open, { resolve: dns }));
    expect(f.code).toBe("url_not_allowed");
    expect(f.message).toContain("resolves to 10.0.0.7, a private address");
  });

  it("refuses a name resolving to an IPv4-mapped loopback", async () => {
    const dns = fakeDns({ "v6.example": ["::ffff:127.0.0.1"] });
    const f = await rejectionOf(fetchWith("https://v6.example/a.jpg", open, { resolve: dns }));
    expect(f.message).toContain("IPv4-mapped IPv6 of 127.0.0.1");
  });
});

describe("fetchImageUrl: scheme, credentials and the allow-list", () => {
  it("refuses http: to a host that is not listed, without asking DNS", async () => {
    const f = await rejectionOf(fetchWith("http://images.example/a.jpg", open));
    expect(f.code).toBe("url_not_allowed");
    expect(f.message).toMatch(/plain http: is fetched only from the hosts on the URL allow-list/);
  });

  it.each(["ftp://images.example/a.jpg", "file:///etc/passwd", "data:image/jpeg;base64,AAAA", "gopher://x/"])(
    "refuses the scheme of %s",
    async (url) => {
      const f = await rejectionOf(fetchWith(url, open));
      expect(f.code).toBe("url_not_allowed");
      expect(f.message).toMatch(/only https: is fetched/);
    },
  );

  it.each(["https://alice:s3cr3t@images.example/a.jpg", "https://alice@images.example/a.jpg"])(
    "refuses userinfo in %s, without echoing it",
    async (url) => {
      const f = await rejectionOf(fetchWith(url, loopbackListed()));
      expect(f.code).toBe("url_not_allowed");
      expect(f.message).toMatch(/user name or password/);
      expect(`${f.message} ${f.hint}`).not.toContain("s3cr3t");
      expect(`${f.message} ${f.hint}`).not.toContain("alice");
    },
  );

  it("refuses a URL that does not parse with invalid_input", async () => {
    const f = await rejectionOf(fetchWith("not a url", open));
    expect(f.code).toBe("invalid_input");
  });

  it("fetches over http from a listed IP (how tests serve images)", async () => {
    const fetched = await fetchWith(`${server.origin}/face.jpg`, loopbackListed());
    expect(Buffer.from(fetched.bytes).equals(jpeg)).toBe(true);
  });

  it("fetches from a host listed by CIDR, and by name", async () => {
    const byCidr = await fetchWith(`${server.origin}/face.jpg`, createUrlPolicy(["127.0.0.0/8"]));
    expect(byCidr.bytes.byteLength).toBe(jpeg.byteLength);
    const dns = fakeDns({ "images.test": ["127.0.0.1"] });
    const byName = await fetchWith(
      `http://images.test:${server.port}/face.jpg`,
      createUrlPolicy(["images.test"]),
      {
        resolve: dns,
      },
    );
    expect(byName.bytes.byteLength).toBe(jpeg.byteLength);
  });

  it("in allow-only mode refuses an https host that is not listed, even a public one", async () => {
    const dns = fakeDns({ "cdn.example": ["8.8.8.8"] });
    // With only names listed, the name alone decides: DNS is not asked.
    const byName = await rejectionOf(
      fetchWith("https://cdn.example/a.jpg", createUrlPolicy(["images.test"], true), { resolve: dns }),
    );
    expect(byName.code).toBe("url_not_allowed");
    expect(byName.message).toMatch(/DIDIT_URL_ALLOW_ONLY=true/);
    expect(dns.asked).toEqual([]);
    // With a CIDR listed, the name's addresses decide.
    const byCidr = await rejectionOf(
      fetchWith("https://cdn.example/a.jpg", createUrlPolicy(["127.0.0.0/8"], true), { resolve: dns }),
    );
    expect(byCidr.message).toMatch(/DIDIT_URL_ALLOW_ONLY=true/);
  });

  it("never quotes a path or query (a presigned signature) in a refusal", async () => {
    const f = await rejectionOf(fetchWith("https://10.0.0.1/secret/a.jpg?X-Amz-Signature=abc123", open));
    expect(f.message).not.toContain("X-Amz-Signature");
    expect(f.message).not.toContain("/secret");
    expect(f.message).toContain("https://10.0.0.1");
  });
});

describe("fetchImageUrl connects to the address that was checked", () => {
  let other: ImageServer;
  beforeAll(async () => {
    // Same port, another loopback address: where a second DNS answer would send the connection.
    other = await startImageServer("127.0.0.2", server.port);
    other.route("/face.jpg", serveBytes(Buffer.from("rebound")));
  });
  afterAll(() => other.close());

  it("asks DNS once per hop and connects to that answer, keeping the host name in Host", async () => {
    let answers = 0;
    const rebinding: Resolver = async () => [
      { address: answers++ === 0 ? "127.0.0.1" : "127.0.0.2", family: 4 },
    ];
    const fetched = await fetchWith(
      `http://img.test:${server.port}/face.jpg`,
      createUrlPolicy(["127.0.0.1/32"]),
      { resolve: rebinding },
    );
    expect(Buffer.from(fetched.bytes).equals(jpeg)).toBe(true);
    expect(answers).toBe(1);
    expect(other.requests).toHaveLength(0);
    expect(server.requests[0]?.headers.host).toBe(`img.test:${server.port}`);
  });

  it("sends no cookie, authorization or other credential header", async () => {
    await fetchWith(`${server.origin}/face.jpg`, loopbackListed());
    const headers = server.requests[0]?.headers ?? {};
    expect(Object.keys(headers).sort()).toEqual(
      ["accept", "accept-encoding", "connection", "host", "user-agent"].filter((h) => h in headers).sort(),
    );
    expect(headers).not.toHaveProperty("cookie");
    expect(headers).not.toHaveProperty("authorization");
    expect(headers["accept-encoding"]).toBe("identity");
  });
});

describe("fetchImageUrl redirects", () => {
  beforeAll(() => {
    server.route("/r1", redirectTo("/face.jpg", 301));
    server.route("/r2", redirectTo("/r1", 302));
    server.route("/r3", redirectTo("/r2", 307));
    server.route("/r4", redirectTo("/r3", 308));
    server.route("/to-private", redirectTo("https://192.168.0.10/face.jpg"));
    server.route("/to-metadata", redirectTo("http://169.254.169.254/latest/meta-data/"));
    server.route("/to-name", redirectTo("https://internal.example/face.jpg"));
    server.route("/no-location", (_req, res) => res.writeHead(302).end());
  });

  it("follows 3 redirects, each a fresh request", async () => {
    const fetched = await fetchWith(`${server.origin}/r3`, loopbackListed());
    expect(Buffer.from(fetched.bytes).equals(jpeg)).toBe(true);
    expect(server.requests.map((r) => r.path)).toEqual(["/r3", "/r2", "/r1", "/face.jpg"]);
  });

  it("refuses a fourth redirect without following it", async () => {
    const f = await rejectionOf(fetchWith(`${server.origin}/r4`, loopbackListed()));
    expect(f.code).toBe("url_fetch_failed");
    expect(f.message).toMatch(/redirected more than 3 times/);
    expect(server.requests.map((r) => r.path)).toEqual(["/r4", "/r3", "/r2", "/r1"]);
  });

  it("re-checks the target: a redirect to a private address is refused", async () => {
    const f = await rejectionOf(fetchWith(`${server.origin}/to-private`, loopbackListed()));
    expect(f.code).toBe("url_not_allowed");
    expect(f.message).toContain("https://192.168.0.10: 192.168.0.10 is a private address");
  });

  it("re-checks the target: a redirect to the metadata service over http is refused", async () => {
    const f = await rejectionOf(fetchWith(`${server.origin}/to-metadata`, loopbackListed()));
    expect(f.code).toBe("url_not_allowed");
  });

  it("re-checks the target: a redirect to a name resolving to a private address is refused", async () => {
    const dns = fakeDns({ "internal.example": ["192.168.7.7"] });
    const f = await rejectionOf(fetchWith(`${server.origin}/to-name`, loopbackListed(), { resolve: dns }));
    expect(f.code).toBe("url_not_allowed");
    expect(f.message).toContain("internal.example resolves to 192.168.7.7");
  });

  it("refuses a redirect to a host not on the list in allow-only mode", async () => {
    const dns = fakeDns({ "internal.example": ["8.8.8.8"] });
    const f = await rejectionOf(
      fetchWith(`${server.origin}/to-name`, createUrlPolicy(["127.0.0.1"], true), { resolve: dns }),
    );
    expect(f.code).toBe("url_not_allowed");
    expect(f.message).toMatch(/DIDIT_URL_ALLOW_ONLY/);
  });

  it("reports a redirect without a Location as url_fetch_failed", async () => {
    const f = await rejectionOf(fetchWith(`${server.origin}/no-location`, loopbackListed()));
    expect(f.code).toBe("url_fetch_failed");
    expect(f.message).toMatch(/HTTP 302 without a Location/);
  });
});

describe("fetchImageUrl bounds", () => {
  it("answers a 404 with url_fetch_failed and the status, never the body", async () => {
    server.route("/gone", (_req, res) => res.writeHead(404).end("SECRET-ERROR-PAGE-7f3a"));
    const f = await rejectionOf(fetchWith(`${server.origin}/gone?sig=abc`, loopbackListed()));
    expect(f.code).toBe("url_fetch_failed");
    expect(f.message).toContain("HTTP 404");
    expect(`${f.message} ${f.hint}`).not.toContain("SECRET-ERROR-PAGE");
    expect(f.message).not.toContain("sig=abc");
  });

  it("refuses a declared Content-Length over the cap without reading the body", async () => {
    let written = 0;
    server.route("/declared-huge", (_req, res) => {
      res.writeHead(200, { "content-length": 50 * 1024 * 1024 });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (written < 50 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
      };
      pump();
    });
    const f = await rejectionOf(fetchWith(`${server.origin}/declared-huge`, loopbackListed()));
    expect(f.code).toBe("too_large");
    expect(f.message).toMatch(/declares 50\.00 MB, over Didit's limit of 5\.00 MB/);
    expect(written).toBeLessThan(50 * 1024 * 1024);
  });

  it("stops an undeclared (chunked) body just over the cap, without reading it all", async () => {
    const total = 64 * 1024 * 1024;
    let written = 0;
    const closed = new Promise<void>((resolve) => {
      server.route("/chunked-huge", (_req, res) => {
        res.writeHead(200, { "content-type": "image/jpeg" });
        res.on("close", () => resolve());
        const chunk = Buffer.alloc(64 * 1024, 0xff);
        const pump = () => {
          while (written < total && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          if (written >= total) res.end();
        };
        pump();
      });
    });
    const f = await rejectionOf(fetchWith(`${server.origin}/chunked-huge`, loopbackListed()));
    expect(f.code).toBe("too_large");
    expect(f.message).toMatch(/is over 5\.00 MB/);
    await closed;
    // The connection was cut: what the server managed to write is the cap plus socket buffers, far from 64 MB.
    expect(written).toBeLessThan(24 * 1024 * 1024);
  });

  it("gives up at the deadline on a server that never answers", async () => {
    server.route("/hang", () => {});
    const started = Date.now();
    const f = await rejectionOf(fetchWith(`${server.origin}/hang`, loopbackListed(), { timeoutMs: 300 }));
    expect(f.code).toBe("url_fetch_failed");
    expect(f.message).toMatch(/did not finish within 0\.3 s/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("gives up at the deadline on a body that trickles", async () => {
    server.route("/trickle", (_req, res) => {
      res.writeHead(200, { "content-type": "image/jpeg", "content-length": 1000 });
      res.write(jpeg.subarray(0, 10));
    });
    const f = await rejectionOf(fetchWith(`${server.origin}/trickle`, loopbackListed(), { timeoutMs: 300 }));
    expect(f.code).toBe("url_fetch_failed");
    expect(f.message).toMatch(/did not finish within 0\.3 s/);
  });

  it("answers the caller's cancellation with cancelled", async () => {
    server.route("/hang2", () => {});
    const controller = new AbortController();
    const pending = fetchWith(`${server.origin}/hang2`, loopbackListed(), { signal: controller.signal });
    while (server.requests.length === 0) await new Promise((r) => setImmediate(r));
    controller.abort();
    const f = await rejectionOf(pending);
    expect(f.code).toBe("cancelled");
  });

  it("reports a refused connection as url_fetch_failed", async () => {
    const closedServer = await startImageServer();
    const origin = closedServer.origin;
    await closedServer.close();
    const f = await rejectionOf(fetchWith(`${origin}/face.jpg`, loopbackListed()));
    expect(f.code).toBe("url_fetch_failed");
    expect(f.message).toMatch(/connection failed \(ECONNREFUSED\)/);
  });
});

describe("property: a forbidden IPv4 address is refused in every spelling the URL parser accepts", () => {
  const FORBIDDEN_V4: [number, number][] = [
    [0x00000000, 8],
    [0x0a000000, 8],
    [0x64400000, 10],
    [0x7f000000, 8],
    [0xa9fe0000, 16],
    [0xac100000, 12],
    [0xc0a80000, 16],
    [0xe0000000, 4],
    [0xf0000000, 4],
  ];

  const forbiddenV4 = fc
    .tuple(fc.constantFrom(...FORBIDDEN_V4), fc.nat())
    .map(([[base, bits], n]) => (base + (n % 2 ** (32 - bits))) >>> 0);

  type Radix = "dec" | "oct" | "hex";
  const spell = (value: number, radix: Radix, upper: boolean) =>
    radix === "dec"
      ? String(value)
      : radix === "oct"
        ? `0${value.toString(8)}`
        : `0${upper ? "X" : "x"}${upper ? value.toString(16).toUpperCase() : value.toString(16)}`;

  /** The 1- to 4-part inet_aton forms the WHATWG parser accepts: the last part fills the remaining bytes. */
  function v4Spelling(ip: number, parts: number, radices: Radix[], upper: boolean): string {
    const bytes = [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff];
    const lead = bytes.slice(0, parts - 1);
    const rest = bytes.slice(parts - 1).reduce((acc, b) => acc * 256 + b, 0);
    return [...lead, rest].map((v, i) => spell(v, radices[i] ?? "dec", upper)).join(".");
  }

  const hex4 = (ip: number) => `${(ip >>> 16).toString(16)}:${(ip & 0xffff).toString(16)}`;
  const dotted = (ip: number) => [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join(".");

  it("refuses each (before any DNS or connection)", async () => {
    await fc.assert(
      fc.asyncProperty(
        forbiddenV4,
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.constantFrom<Radix>("dec", "oct", "hex"), { minLength: 4, maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom("https:", "http:"),
        async (ip, parts, radices, upper, trailingDot, form, scheme) => {
          const host = [
            () => `${v4Spelling(ip, parts, radices, upper)}${trailingDot ? "." : ""}`,
            () => `[::ffff:${dotted(ip)}]`,
            () => `[::ffff:${hex4(ip)}]`,
            () => `[0:0:0:0:0:FFFF:${hex4(ip)}]`,
            () => `[64:ff9b::${dotted(ip)}]`,
            () => `[2002:${hex4(ip)}::1]`,
            () => `[::${dotted(ip)}]`,
          ][form]?.();
          // ::0.0.0.x is :: or ::1 itself, judged as IPv6 (still refused).
          const f = await rejectionOf(fetchWith(`${scheme}//${host}/a.jpg`, open));
          expect(f.code).toBe("url_not_allowed");
        },
      ),
      { numRuns: 400 },
    );
  });
});
