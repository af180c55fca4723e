/**
 * A transparent TCP relay between the server under test and the Didit double, so a test can see, from the
 * outside, when the server closes a connection (e.g. aborts an in-flight request) without changing the double.
 * Each inbound connection gets its own upstream connection; bytes pass through unchanged, a TCP reset from
 * the double is passed on as a reset, and closing either side closes the other.
 */
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { performance } from "node:perf_hooks";

export interface TapConnection {
  id: number;
  openedAt: number;
  /** performance.now() when the server-under-test side of the connection closed. */
  closedAt: number | undefined;
  /** Resolves with performance.now() when the server-under-test side of the connection has closed. */
  closed: Promise<number>;
  bytesFromClient: number;
  bytesFromUpstream: number;
}

export interface TcpTap {
  /** Origin to give the server under test, e.g. as DIDIT_BASE_URL. */
  url: string;
  connections: TapConnection[];
  /** Open connections whose client sent bytes after the last bytes the upstream sent: a request awaits an answer. */
  inFlight(): TapConnection[];
  close(): Promise<void>;
}

export async function startTcpTap(targetUrl: string): Promise<TcpTap> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port);
  const connections: TapConnection[] = [];
  const order = new Map<TapConnection, { client: number; upstream: number }>();
  const sockets = new Set<Socket>();
  let seq = 0;

  const server = createServer((client) => {
    let markClosed: (at: number) => void = () => {};
    const conn: TapConnection = {
      id: connections.length + 1,
      openedAt: performance.now(),
      closedAt: undefined,
      closed: new Promise<number>((resolve) => {
        markClosed = resolve;
      }),
      bytesFromClient: 0,
      bytesFromUpstream: 0,
    };
    connections.push(conn);
    const last = { client: 0, upstream: 0 };
    order.set(conn, last);

    const upstream = tcpConnect({ host: target.hostname, port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    client.on("data", (chunk: Buffer) => {
      conn.bytesFromClient += chunk.length;
      last.client = ++seq;
    });
    upstream.on("data", (chunk: Buffer) => {
      conn.bytesFromUpstream += chunk.length;
      last.upstream = ++seq;
    });
    client.pipe(upstream);
    upstream.pipe(client);

    client.on("error", () => upstream.destroy());
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" && typeof client.resetAndDestroy === "function")
        client.resetAndDestroy();
      else client.destroy();
    });
    client.on("close", () => {
      sockets.delete(client);
      conn.closedAt = performance.now();
      markClosed(conn.closedAt);
      upstream.destroy();
    });
    upstream.on("close", () => {
      sockets.delete(upstream);
      if (!client.destroyed) client.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    inFlight: () =>
      connections.filter((c) => {
        const last = order.get(c);
        return c.closedAt === undefined && last !== undefined && last.client > last.upstream;
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Resolves with the promise's value, or rejects after `ms` with `what` in the message: a bound, not a sleep. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}
