/**
 * The watch loop over /v1/stream: subscribe, yield events, and on any break
 * reconnect and subscribe again with `since` = the last sequence number seen.
 * The daemon replays every retained event after `since` before going live,
 * so each event is yielded once, in `seq` order, across reconnects and
 * daemon restarts; an event at or below the last `seq` is never yielded again.
 */
import { OverseerError, problemError, StreamError, TransportError } from "./errors.js";
import { after } from "./time.js";
import type { StreamItem, Subscribed, WatchOptions } from "./types.js";

/** The part of the WebSocket interface the client uses (browsers' WebSocket and Node's `ws` both have it). */
export interface WebSocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection without a closing handshake (the `ws` package has it); used when the peer stopped answering. */
  terminate?(): void;
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
  /** Bounds each connection attempt, and the wait for the answer to an idle probe (Infinity: no bound). */
  connectTimeoutMs: number;
  /** Give up when no connection succeeded for this long since the last one was lost (undefined: never). */
  reconnectTimeoutMs: number | undefined;
  /** Probe an open stream after this long without a message (Infinity: never). */
  idleMs: number;
  /** Messages held for the consumer before the connection is closed, to resume once they are read (>= 2). */
  bufferLimit: number;
}

export function streamUrl(httpUrl: string): string {
  const u = new URL(httpUrl.replace(/\/+$/, "") + "/v1/stream");
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}

const retryStatuses = new Set([426, 502, 503, 504]);

/**
 * What a watch sends on a stream that has been silent for `idleMs`: a
 * documented no-op (a watch never subscribes to nodes, and any role may
 * unsubscribe) that the daemon answers with `unsubscribed`. The daemon itself
 * sends nothing on a quiet stream (it pings only a client it has not heard
 * from for 150 s, and a page's WebSocket does not show pings), so silence
 * alone cannot tell a quiet stream from a dead link.
 */
export const PROBE = JSON.stringify({ op: "unsubscribe", nodes: true });

/** Bytes of held messages past which a connection is closed too (as the daemon bounds its queue at 16 MiB). */
const BUFFER_BYTES = 16 * 1024 * 1024;

interface Limits {
  idleMs: number;
  answerMs: number;
  bufferLimit: number;
}

/**
 * One connection: its messages held until read; `next()` gives null once it
 * is closed, at once after the watch's `close()`. It closes itself when the
 * consumer falls `bufferLimit` messages behind (`overflowed`: the watch
 * resumes with `since` once the held ones are read), and when nothing
 * arrives for `idleMs` and then nothing answers a probe for `answerMs`.
 */
class Connection {
  private readonly queue: string[] = [];
  private bytes = 0;
  private waiter: (() => void) | undefined;
  private opened = false;
  private stopIdle: () => void = () => {};
  private readonly onAbort: () => void;
  /** The client closed it because the consumer fell behind: not a failure. */
  overflowed = false;
  closed: { code: number; reason: string } | undefined;

  constructor(private readonly ws: WebSocketLike, private readonly signal: AbortSignal, private readonly limits: Limits) {
    ws.onopen = () => {
      this.opened = true;
      this.idle();
      this.wake();
    };
    ws.onmessage = (e) => {
      // After the client closed it, a message is dropped: the resume brings it again.
      if (this.closed !== undefined || this.overflowed) return;
      const text = typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data as ArrayBuffer);
      this.queue.push(text);
      this.bytes += text.length;
      this.idle();
      if (this.queue.length >= limits.bufferLimit || (this.bytes >= BUFFER_BYTES && this.queue.length >= 2)) {
        this.overflowed = true;
        this.shut(false);
      }
      this.wake();
    };
    ws.onclose = (e) => {
      this.closed ??= { code: e.code, reason: e.reason };
      this.stopIdle();
      this.wake();
    };
    ws.onerror = () => {
      // onclose follows and carries the code.
    };
    this.onAbort = () => {
      this.closed ??= { code: 1000, reason: "closed by the client" };
      this.shut(false);
      this.wake();
    };
    if (signal.aborted) this.onAbort();
    else signal.addEventListener("abort", this.onAbort);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** (Re)starts the idle deadline: a probe after `idleMs` of silence, the end after `answerMs` more. */
  private idle(): void {
    this.stopIdle();
    const { idleMs, answerMs } = this.limits;
    this.stopIdle = after(idleMs, () => {
      try {
        this.ws.send(PROBE);
      } catch {
        // closing: onclose follows
      }
      this.stopIdle = after(answerMs, () => {
        this.closed ??= { code: 1006, reason: `nothing received for ${idleMs} ms and no answer to a probe within ${answerMs} ms` };
        this.shut(true);
        this.wake();
      }, true);
    }, true);
  }

  private until(ready: () => boolean, timeoutMs?: number): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = timeoutMs === undefined ? undefined : after(timeoutMs, () => {
        this.closed ??= { code: 1006, reason: `no answer within ${timeoutMs} ms` };
        this.waiter = undefined;
        resolve();
      });
      this.waiter = () => {
        cancel?.();
        resolve();
      };
    });
  }

  /** True once open; false when it closed (or timed out) before opening. */
  async open(timeoutMs: number): Promise<boolean> {
    await this.until(() => this.opened || this.closed !== undefined, timeoutMs);
    return this.opened && this.closed === undefined;
  }

  /** The next message held; null once the watch is closed (even with messages held), or once it closed and all are read. */
  async next(): Promise<string | null> {
    for (;;) {
      if (this.signal.aborted) return null;
      const message = this.queue.shift();
      if (message !== undefined) {
        this.bytes -= message.length;
        return message;
      }
      if (this.closed !== undefined || this.overflowed) return null;
      await this.until(() => this.signal.aborted || this.queue.length > 0 || this.closed !== undefined || this.overflowed);
    }
  }

  send(text: string): void {
    this.ws.send(text);
  }

  /** `hard`: the peer is gone, so do not wait for its close frame (the `ws` package's `terminate()`, where there is one). */
  private shut(hard: boolean): void {
    this.stopIdle();
    this.signal.removeEventListener("abort", this.onAbort);
    try {
      if (hard && typeof this.ws.terminate === "function") this.ws.terminate();
      else this.ws.close(1000);
    } catch {
      // already closed
    }
  }

  close(): void {
    this.shut(false);
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
      cancel();
      signal.removeEventListener("abort", done);
      resolve();
    };
    const cancel = after(ms, done);
    signal.addEventListener("abort", done);
  });
}

/**
 * An async iterator over the stream: the first item is the `Subscribed`
 * acknowledgement, then every event once, in `seq` order, across reconnects.
 * `close()` ends it at once: it closes the connection, and a pending or later
 * `next()` finishes with `done` (events held but not yet read are dropped).
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

  /** Ends the watch and closes its connection now, whether or not an iteration is under way. */
  close(): void {
    this.abort.abort();
  }

  /** Why the upgrade failed: a problem the client cannot retry past is thrown. Bounded by `timeoutMs` and by `close()`. */
  private async checkRefusal(timeoutMs: number): Promise<void> {
    const { httpUrl, token } = this.settings;
    const parent = this.abort.signal;
    const controller = new AbortController();
    const stop = () => controller.abort();
    parent.addEventListener("abort", stop);
    const cancel = after(timeoutMs, stop, true);
    try {
      let response: Response;
      try {
        response = await this.settings.fetch(httpUrl.replace(/\/+$/, "") + "/v1/stream", {
          headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
          signal: controller.signal,
        });
      } catch {
        return; // unreachable: retry
      }
      if (!response.ok && !retryStatuses.has(response.status)) {
        const problem = await problemError(response);
        if (!controller.signal.aborted) throw problem;
      }
      await response.body?.cancel().catch(() => {});
    } finally {
      cancel();
      parent.removeEventListener("abort", stop);
    }
  }

  private connect(url: string): WebSocketLike {
    try {
      return this.settings.webSocket(url, this.settings.token);
    } catch (e) {
      if (e instanceof OverseerError) throw e;
      throw new TransportError(`the webSocket factory could not open ${url}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
  }

  private async *run(): AsyncGenerator<StreamItem, void, undefined> {
    const { signal } = this.abort;
    const { connectTimeoutMs, reconnectTimeoutMs: limit, idleMs, bufferLimit } = this.settings;
    const url = streamUrl(this.settings.httpUrl);
    const limits = { idleMs, answerMs: connectTimeoutMs, bufferLimit };
    let acknowledged = false;
    let delay = 50;
    // Since when the watch has had no working connection (it starts without
    // one); undefined while one works. The reconnect timeout counts from
    // here, and bounds every attempt within it.
    let brokenSince: number | undefined = Date.now();
    const left = () => (limit === undefined || brokenSince === undefined ? Infinity : brokenSince + limit - Date.now());
    let failure = "";
    while (!signal.aborted) {
      if (failure !== "" && left() <= 0) throw new TransportError(`the stream stayed unreachable for ${limit} ms: ${failure}`);
      failure = "";
      const conn = new Connection(this.connect(url), signal, limits);
      try {
        if (!(await conn.open(Math.min(connectTimeoutMs, Math.max(left(), 0))))) {
          failure = `could not open ${url}: ${conn.closed?.code} ${conn.closed?.reason}`;
          if (!signal.aborted && left() > 0) await this.checkRefusal(Math.min(connectTimeoutMs, left()));
        } else {
          conn.send(JSON.stringify(subscribeMessage(this.options, this.lastSeq)));
          for (;;) {
            const text = await conn.next();
            if (text === null) {
              failure = `closed with ${conn.closed?.code} ${conn.closed?.reason}`;
              break;
            }
            let message: { type?: string; seq?: number; message?: string };
            try {
              message = JSON.parse(text) as typeof message;
            } catch (e) {
              throw new TransportError(`${url} sent a message that is not JSON`, { cause: e });
            }
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
      if (conn.overflowed && brokenSince === undefined) {
        // The consumer has read what the connection held: resume after it
        // at once (the daemon replays from lastSeq). Not a failure.
        failure = "";
        brokenSince = Date.now();
        continue;
      }
      brokenSince ??= Date.now();
      if (left() > 0) await sleep(Math.min(delay * (0.5 + Math.random()), left()), signal);
      delay = Math.min(delay * 2, 2000);
    }
  }
}
