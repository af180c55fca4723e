/**
 * A loopback HTTP server for image_url tests and the bench: each request is recorded, then answered by the
 * route for its path (404 when none). Only Node built-ins; listens on 127.0.0.1 (or the given address).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ServedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface ImageServer {
  /** http://127.0.0.1:port (no trailing slash). */
  origin: string;
  port: number;
  requests: ServedRequest[];
  route(path: string, handler: Route): void;
  close(): Promise<void>;
}

export async function startImageServer(host = "127.0.0.1", port = 0): Promise<ImageServer> {
  const routes = new Map<string, Route>();
  const requests: ServedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    requests.push({ method: req.method ?? "", path, headers: { ...req.headers } });
    const handler = routes.get(path.split("?")[0] ?? path);
    if (handler) handler(req, res);
    else res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    origin: `http://${host}:${actual}`,
    port: actual,
    requests,
    route: (path, handler) => routes.set(path, handler),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A route that answers 200 with these bytes and their length. */
export function serveBytes(bytes: Uint8Array, contentType = "image/jpeg"): Route {
  return (_req, res) => {
    res.writeHead(200, { "content-type": contentType, "content-length": bytes.byteLength });
    res.end(bytes);
  };
}

/** A route that redirects to `location` with the given status. */
export function redirectTo(location: string, status = 302): Route {
  return (_req, res) => {
    res.writeHead(status, { location });
    res.end();
  };
}
