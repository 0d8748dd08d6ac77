/**
 * The watch loop over /v1/stream: subscribe, yield events, and on any break
 * reconnect and subscribe again with `since` = the last sequence number seen.
 * The daemon replays every retained event after `since` before going live,
 * so each event is yielded once, in `seq` order, across reconnects and
 * daemon restarts; an event at or below the last `seq` is never yielded again.
 */
import { problemError, StreamError, TransportError } from "./errors.js";
import type { StreamItem, Subscribed, WatchOptions } from "./types.js";

/** The part of the WebSocket interface the client uses (browsers' WebSocket and Node's `ws` both have it). */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * Opens a WebSocket to `url`. A factory that can set headers (Node's `ws`)
 * should send `Authorization: Bearer <token>`; the default one, for the
 * platform's WebSocket, cannot, and passes the token as `access_token`.
 */
export type WebSocketFactory = (url: string, token: string | undefined) => WebSocketLike;

export const platformWebSocket: WebSocketFactory = (url, token) => {
  const ctor = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (ctor === undefined) {
    throw new TransportError("this platform has no global WebSocket; pass the webSocket option (e.g. from the ws package)");
  }
  if (token === undefined) return new ctor(url);
  const u = new URL(url);
  u.searchParams.set("access_token", token);
  return new ctor(u.toString());
};

export interface StreamSettings {
  httpUrl: string;
  token: string | undefined;
  webSocket: WebSocketFactory;
  fetch: typeof fetch;
  connectTimeoutMs: number;
  /** Give up when no connection succeeded for this long (undefined: never). */
  reconnectTimeoutMs: number | undefined;
}

export function streamUrl(httpUrl: string): string {
  const u = new URL(httpUrl.replace(/\/+$/, "") + "/v1/stream");
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}

const retryStatuses = new Set([426, 502, 503, 504]);

/** One connection: its messages queued until read; `next()` gives null once it is closed. */
class Connection {
  private readonly queue: string[] = [];
  private waiter: (() => void) | undefined;
  private opened = false;
  private readonly onAbort: () => void;
  closed: { code: number; reason: string } | undefined;

  constructor(private readonly ws: WebSocketLike, private readonly signal: AbortSignal) {
    const wake = () => {
      const w = this.waiter;
      this.waiter = undefined;
      w?.();
    };
    ws.onopen = () => {
      this.opened = true;
      wake();
    };
    ws.onmessage = (e) => {
      this.queue.push(typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer));
      wake();
    };
    ws.onclose = (e) => {
      this.closed = { code: e.code, reason: e.reason };
      wake();
    };
    ws.onerror = () => {
      // onclose follows and carries the code.
    };
    this.onAbort = () => {
      this.closed ??= { code: 1000, reason: "closed by the client" };
      wake();
    };
    signal.addEventListener("abort", this.onAbort);
  }

  private until(ready: () => boolean, timeoutMs?: number): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        this.closed ??= { code: 1006, reason: `no answer within ${timeoutMs} ms` };
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
    });
  }

  /** True once open; false when it closed (or timed out) before opening. */
  async open(timeoutMs: number): Promise<boolean> {
    await this.until(() => this.opened || this.closed !== undefined, timeoutMs);
    return this.opened && this.closed === undefined;
  }

  async next(): Promise<string | null> {
    for (;;) {
      const message = this.queue.shift();
      if (message !== undefined) return message;
      if (this.closed !== undefined) return null;
      await this.until(() => this.queue.length > 0 || this.closed !== undefined);
    }
  }

  send(text: string): void {
    this.ws.send(text);
  }

  close(): void {
    this.signal.removeEventListener("abort", this.onAbort);
    try {
      this.ws.close(1000);
    } catch {
      // already closed
    }
  }
}

function subscribeMessage(options: WatchOptions, since: number | undefined): Record<string, unknown> {
  const m: Record<string, unknown> = { op: "subscribe", logs: options.logs ?? false };
  if (options.job_id !== undefined) m.job_id = options.job_id;
  else if (options.batch_id !== undefined) m.batch_id = options.batch_id;
  else {
    m.all = true;
    const filter: Record<string, unknown> = {};
    if (options.tool !== undefined) filter.tool = options.tool;
    if (options.labels !== undefined && Object.keys(options.labels).length > 0) filter.labels = options.labels;
    if (Object.keys(filter).length > 0) m.filter = filter;
  }
  if (since !== undefined) m.since = since;
  return m;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/**
 * An async iterator over the stream: the first item is the `Subscribed`
 * acknowledgement, then every event once, in `seq` order, across reconnects.
 * `close()` ends it (a pending `next()` then finishes with `done`).
 */
export class Watch implements AsyncIterableIterator<StreamItem> {
  private readonly abort = new AbortController();
  private readonly items: AsyncGenerator<StreamItem, void, undefined>;
  /**
   * The sequence number to resume from: the last one yielded (or acknowledged),
   * or a replay's `caught_up` seq when that is further (the replay read past
   * it). Every event up to it has been yielded; a saved `lastSeq` is a safe `since`.
   */
  lastSeq: number | undefined;

  constructor(private readonly settings: StreamSettings, private readonly options: WatchOptions) {
    const targets = [options.job_id !== undefined, options.batch_id !== undefined, options.all === true];
    if (targets.filter(Boolean).length !== 1) throw new TypeError("watch exactly one of: job_id, batch_id, all: true");
    this.lastSeq = options.since;
    this.items = this.run();
  }

  next(): Promise<IteratorResult<StreamItem, void>> {
    return this.items.next();
  }

  async return(): Promise<IteratorResult<StreamItem, void>> {
    this.close();
    return this.items.return();
  }

  [Symbol.asyncIterator](): Watch {
    return this;
  }

  close(): void {
    this.abort.abort();
  }

  /** Why the upgrade failed: a problem the client cannot retry past is thrown. */
  private async checkRefusal(): Promise<void> {
    const { httpUrl, token } = this.settings;
    let response: Response;
    try {
      response = await this.settings.fetch(httpUrl.replace(/\/+$/, "") + "/v1/stream", {
        headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(this.settings.connectTimeoutMs),
      });
    } catch {
      return; // unreachable: retry
    }
    if (!response.ok && !retryStatuses.has(response.status)) throw await problemError(response);
    await response.body?.cancel();
  }

  private async *run(): AsyncGenerator<StreamItem, void, undefined> {
    const { signal } = this.abort;
    const url = streamUrl(this.settings.httpUrl);
    let acknowledged = false;
    let delay = 50;
    let brokenSince: number | undefined;
    while (!signal.aborted) {
      let failure = "";
      const conn = new Connection(this.settings.webSocket(url, this.settings.token), signal);
      try {
        if (!(await conn.open(this.settings.connectTimeoutMs))) {
          failure = `could not open ${url}: ${conn.closed?.code} ${conn.closed?.reason}`;
          if (!signal.aborted) await this.checkRefusal();
        } else {
          conn.send(JSON.stringify(subscribeMessage(this.options, this.lastSeq)));
          for (;;) {
            const text = await conn.next();
            if (text === null) {
              failure = `closed with ${conn.closed?.code} ${conn.closed?.reason}`;
              break;
            }
            const message = JSON.parse(text) as { type?: string; seq?: number; message?: string };
            if (message.type === "subscribed") {
              brokenSince = undefined;
              delay = 50;
              this.lastSeq ??= message.seq;
              if (!acknowledged) {
                acknowledged = true;
                yield message as Subscribed;
              }
            } else if (message.type === "caught_up") {
              // The replay has sent everything up to its seq: a later
              // reconnect resumes from there.
              const seq = message.seq;
              if (typeof seq === "number" && (this.lastSeq === undefined || seq > this.lastSeq)) this.lastSeq = seq;
            } else if (message.type === "error") {
              throw new StreamError(String(message.message ?? ""));
            } else if (message.type === "transition" || message.type === "progress" || message.type === "log") {
              const seq = message.seq as number;
              if (this.lastSeq !== undefined && seq <= this.lastSeq) continue;
              this.lastSeq = seq;
              yield message as StreamItem;
            }
          }
        }
      } finally {
        conn.close();
      }
      if (signal.aborted) return;
      const now = Date.now();
      brokenSince ??= now;
      const limit = this.settings.reconnectTimeoutMs;
      if (limit !== undefined && now - brokenSince >= limit) {
        throw new TransportError(`the stream stayed unreachable for ${limit} ms: ${failure}`);
      }
      await sleep(delay * (0.5 + Math.random()), signal);
      delay = Math.min(delay * 2, 2000);
    }
  }
}
