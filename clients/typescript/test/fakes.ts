/**
 * Fake servers for what the real daemon does not do: an HTTP server with a
 * handler per test, a WebSocket server whose connections a test scripts, a
 * TCP server that accepts and never answers. Each is closed by `close()`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { WebSocketServer, type WebSocket as ServerSocket } from "ws";

export interface Fake {
  url: string;
  close(): Promise<void>;
}

export async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Fake & { requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A stream server: `onConnection` scripts each connection (its index, the socket, the messages it sent so far). */
export async function wsServer(onConnection: (n: number, ws: ServerSocket, received: string[]) => void): Promise<Fake & { connections: { ws: ServerSocket; received: string[]; closed: boolean }[] }> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((resolve) => server.once("listening", resolve));
  const connections: { ws: ServerSocket; received: string[]; closed: boolean }[] = [];
  server.on("connection", (ws) => {
    const c = { ws, received: [] as string[], closed: false };
    connections.push(c);
    ws.on("message", (data) => c.received.push(String(data)));
    ws.on("close", () => { c.closed = true; });
    onConnection(connections.length - 1, ws, c.received);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    close: () => new Promise<void>((resolve) => {
      for (const c of connections) c.ws.terminate();
      server.close(() => resolve());
    }),
  };
}

/** Accepts TCP connections and never answers (a frozen daemon, a black-holed route). */
export async function blackHole(): Promise<Fake & { accepted: () => number }> {
  const sockets: Socket[] = [];
  const server = createTcpServer((s) => {
    sockets.push(s);
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: () => sockets.length,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** `promise`, or a rejection naming `what` if it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Resolves once `ws` (a client socket of the ws package) has closed. */
export function closedEvent(ws: { readyState: number; once(event: "close", f: () => void): unknown }): Promise<void> {
  return ws.readyState === 3 ? Promise.resolve() : new Promise((resolve) => ws.once("close", () => resolve()));
}
