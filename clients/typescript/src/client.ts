/**
 * `Client`: one async method per endpoint of docs/api.md, over the
 * platform's `fetch`, plus `watch()` over the WebSocket stream and `wait()`.
 *
 *   const client = new Client("http://127.0.0.1:8080", { token });
 *   const { job_id } = await client.submit({ tool: "sleep", params: { seconds: 2 } });
 *   const job = await client.wait(job_id, { timeoutMs: 60_000 });
 *   const run = await client.run({ tool: "noop" }, { waitMs: 10_000 }); // submit and wait, one request
 */
import { OverseerError, problemError, TransportError, WaitTimeout } from "./errors.js";
import { platformWebSocket, Watch, type WebSocketFactory } from "./stream.js";
import { after, duration } from "./time.js";
import {
  TERMINAL,
  type Batch,
  type BatchList,
  type BatchSpec,
  type BatchSubmitted,
  type BulkCancelled,
  type BulkFilters,
  type BulkPurged,
  type CacheStats,
  type Delivery,
  type DownloadOptions,
  type FileInfo,
  type FileList,
  type GetOptions,
  type ReasonOptions,
  type Health,
  type Job,
  type JobList,
  type JobSpec,
  type Json,
  type ListBatchesQuery,
  type ListFilesQuery,
  type ListJobsQuery,
  type LogPage,
  type LogsQuery,
  type Metrics,
  type RunOptions,
  type RunResult,
  type SubmitOptions,
  type Submitted,
  type Node,
  type Tool,
  type ToolState,
  type Transition,
  type UploadData,
  type UploadOptions,
  type WatchOptions,
} from "./types.js";

export interface ClientOptions {
  /**
   * A bearer token, sent on every request and the stream. Surrounding
   * whitespace (a newline read from a file) is trimmed; what is left must be
   * printable ASCII without spaces, else the constructor throws a TypeError
   * naming the position (never the token).
   */
  token?: string;
  /**
   * Bounds each request, its answer included, and each stream connection
   * attempt (default 30 000; Infinity: no bound). An upload or a download is
   * not bounded as a whole: the time to the answer's head, and any pause of
   * the data (the daemon taking no upload data, or no download data arriving)
   * for this long, are. A `waitMs` adds its wait.
   */
  timeoutMs?: number;
  /** How long a watch keeps reconnecting, from the loss of its connection, before it throws TransportError (default 60 000; null or Infinity: forever). */
  reconnectTimeoutMs?: number | null;
  /**
   * After this long without a message on an open stream, a watch sends a
   * no-op (`{"op":"unsubscribe","nodes":true}`, which the daemon
   * acknowledges) and reconnects with `since` when nothing arrives within
   * `timeoutMs` more (default 60 000; Infinity: never probe). The daemon sends
   * nothing on a quiet stream, so this is what finds a dead link.
   */
  streamIdleMs?: number;
  /**
   * Stream messages a watch holds that its consumer has not read yet (default
   * 10 000, or 16 MiB). At that many the watch closes the connection and,
   * once the consumer has read them, reconnects with `since`, so nothing is
   * lost and memory stays bounded; at least 2.
   */
  streamBufferLimit?: number;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Defaults to the global WebSocket with the token as `access_token`; Node 18-21 need one (the ws package). */
  webSocket?: WebSocketFactory;
}

/** A request as sent: the route is the path as docs/openapi.yaml writes it. */
export interface Call {
  method: "GET" | "POST" | "DELETE";
  route: string;
  path: string;
  query?: [string, string][];
  body?: unknown;
  /** Statuses answered with a document rather than a problem. */
  ok?: number[];
  /** The answer is text (resolves to a string), not JSON. */
  text?: boolean;
  headers?: Record<string, string>;
  /** How long the daemon may hold the request (`?wait=`), on top of the timeout that bounds the rest. */
  waitMs?: number;
  /** An upload's body, sent as application/octet-stream instead of JSON. */
  upload?: UploadData;
  /** A download: after the answer's head, only a pause of the data is bounded, not the whole body. */
  download?: boolean;
}

/**
 * Every route of docs/openapi.yaml and the client method that serves it
 * (test/openapi.test.ts fails when a route is missing here or a method does
 * not send it). POST /v1/jobs/{id}/cancel is the same operation as
 * DELETE /v1/jobs/{id}, and POST /v1/batches/{id}/cancel as DELETE
 * /v1/batches/{id}; `cancel` and `cancelBatch` send the POST form, whose
 * body (the operator's reason) no proxy drops.
 */
export const ROUTES = {
  "POST /v1/jobs": "submit", // and run(), the same route with ?wait=
  "GET /v1/jobs": "listJobs",
  "POST /v1/jobs/cancel": "cancelJobs",
  "POST /v1/jobs/purge": "purgeJobs",
  "GET /v1/jobs/{id}": "get",
  "DELETE /v1/jobs/{id}": "cancel",
  "POST /v1/jobs/{id}/cancel": "cancel",
  "GET /v1/jobs/{id}/result": "result",
  "GET /v1/jobs/{id}/logs": "logs",
  "GET /v1/jobs/{id}/history": "history",
  "POST /v1/jobs/{id}/retry": "retry",
  "POST /v1/batches": "submitBatch",
  "GET /v1/batches": "listBatches",
  "GET /v1/batches/{id}": "getBatch",
  "DELETE /v1/batches/{id}": "cancelBatch",
  "POST /v1/batches/{id}/cancel": "cancelBatch",
  "GET /v1/cache/stats": "cacheStats",
  "DELETE /v1/cache": "clearCache",
  "GET /v1/tools": "tools",
  "GET /v1/nodes": "nodes",
  "POST /v1/tools/{name}/pause": "pauseTool",
  "POST /v1/tools/{name}/resume": "resumeTool",
  "GET /v1/metrics": "metrics",
  "GET /v1/openapi.yaml": "openapi",
  "GET /v1/health": "health",
  "GET /v1/stream": "watch",
  "GET /v1/jobs/{id}/deliveries": "deliveries",
  "POST /v1/files": "uploadFile",
  "GET /v1/files": "listFiles",
  "GET /v1/files/{id}": "downloadFile", // and downloadStream()
  "DELETE /v1/files/{id}": "deleteFile",
} as const satisfies Record<string, keyof Client>;

/**
 * One path segment: percent-encoded. "" "." and ".." are refused (TypeError):
 * a URL parser takes "." and ".." (and their %2E spellings) as dot-segments,
 * so `cancel(".")` would reach another route; no id is spelled so.
 */
function id(value: string, what = "id"): string {
  if (typeof value !== "string") throw new TypeError(`${what} must be a string, not ${typeof value}`);
  if (value === "") throw new TypeError(`${what} is empty`);
  if (value === "." || value === "..") {
    throw new TypeError(`${what} must not be "${value}": a URL takes it as a path step (also spelled %2E), not as an id`);
  }
  try {
    return encodeURIComponent(value);
  } catch {
    throw new TypeError(`${what} is not well-formed Unicode (it has a lone surrogate)`);
  }
}

function param(key: string, value: string | number | boolean | Date): string {
  if (!(value instanceof Date)) return String(value);
  if (Number.isNaN(value.getTime())) throw new RangeError(`${key} is an invalid Date`);
  return value.toISOString();
}

/** The daemon takes a wait of up to a day, and waits at most its --max-wait (<= 1 h) anyway. */
const MAX_WAIT_MS = 86_400_000;

/**
 * A `waitMs` as sent: whole milliseconds, and a longer wait than a day
 * (Infinity included) as a day, which is the same wait. A negative or NaN one
 * goes as it is, for the daemon's 400 naming `wait`.
 */
function waitOf(ms: number | undefined, fallback: number): number {
  const w = ms ?? fallback;
  return w > MAX_WAIT_MS ? MAX_WAIT_MS : w >= 0 ? Math.round(w) : w;
}

/** `?wait=` in whole milliseconds, which the daemon reads exactly. */
function waitParam(ms: number): string {
  return `${Math.round(ms)}ms`;
}

/** Whitespace fetch trims from a header value (HTTP's OWS and line breaks). */
const HTTP_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

/** The token as sent: trimmed, then printable ASCII (0x21-0x7E) only; the error names the position, never the token. */
function checkToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  if (typeof token !== "string") throw new TypeError(`token must be a string, not ${typeof token}`);
  const t = token.replace(HTTP_WHITESPACE, "");
  if (t === "") throw new TypeError("token is empty");
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) {
      throw new TypeError(`token has a character a header cannot carry (U+${c.toString(16).toUpperCase().padStart(4, "0")}) at position ${i}: only printable ASCII without spaces`);
    }
  }
  return t;
}

/** A header value fetch would refuse (and quote in its error): refused here, naming the header and position, never the value. */
function checkHeader(name: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) {
      throw new TypeError(`the ${name} header has a character it cannot carry (U+${c.toString(16).toUpperCase().padStart(4, "0")}) at position ${i}`);
    }
  }
}

/** Why fetch failed, in words: refused, reset, closed early, no such host; else its message. */
function describe(e: unknown): string {
  const messages: string[] = [];
  let code: string | undefined;
  for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    const m = (x as { message?: unknown }).message;
    if (typeof m === "string" && m !== "") messages.push(m);
    const c = (x as { code?: unknown }).code;
    if (code === undefined && typeof c === "string") code = c;
  }
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (ECONNREFUSED): nothing listens there";
    case "ECONNRESET":
    case "EPIPE":
      return `connection reset (${code})`;
    case "UND_ERR_SOCKET":
      return "the connection was closed before the whole answer came (reset by the peer or a proxy)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `host not found (${code})`;
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `${code}: ${messages.at(-1) ?? ""}`;
    default:
      return messages.join(": ") || String(e);
  }
}

const isNode = typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === "string";

/** A floor on an upload's rate where its progress cannot be seen (a Blob or bytes outside Node): 64 KiB/s. */
const MIN_UPLOAD_BYTES_PER_MS = 64;

/**
 * The deadline of one request: one timer at a time, whose firing aborts the
 * fetch; `why` says which one fired.
 */
class Deadline {
  readonly controller = new AbortController();
  why: string | undefined;
  /** The answer's head came: what the upload does from now on is not timed. */
  answered = false;
  private cancel: () => void = () => {};

  arm(ms: number, why: string): void {
    this.cancel();
    this.cancel = after(ms, () => {
      this.why = why;
      this.controller.abort();
    }, true);
  }

  clear(): void {
    this.cancel();
    this.cancel = () => {};
  }
}

/**
 * A request body whose progress the deadline can see: while fetch waits for
 * more it is not bounded (the source is the caller's); once a piece is handed
 * over, fetch must come back for the next within `timeoutMs`, and after the
 * last the answer's head must come within `timeoutMs`.
 */
function watchedUpload(source: ReadableStream<Uint8Array>, deadline: Deadline, timeoutMs: number): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!deadline.answered) deadline.clear();
      const { done, value } = await reader.read();
      if (done) {
        if (!deadline.answered) deadline.arm(timeoutMs, `no answer within ${timeoutMs} ms of the upload's end`);
        controller.close();
      } else {
        if (!deadline.answered) deadline.arm(timeoutMs, `the daemon took no upload data for ${timeoutMs} ms`);
        controller.enqueue(value);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** Bytes or a Blob as a stream of 64 KiB pieces. */
function streamOf(data: Uint8Array | ArrayBuffer | Blob): ReadableStream<Uint8Array> {
  if (typeof Blob !== "undefined" && data instanceof Blob) return data.stream() as ReadableStream<Uint8Array>;
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      const end = Math.min(offset + 65_536, bytes.length);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
    },
  }, { highWaterMark: 0 });
}

function sizeOf(data: UploadData): number | undefined {
  if (typeof Blob !== "undefined" && data instanceof Blob) return data.size;
  if (data instanceof Uint8Array || data instanceof ArrayBuffer) return data.byteLength;
  return undefined;
}

/** The optional body of a cancel, retry or pause: the operator's reason. */
function reasonBody(options: ReasonOptions): { reason: string } | undefined {
  return options.reason === undefined ? undefined : { reason: options.reason };
}

function traceHeaders(options: SubmitOptions): Record<string, string> {
  return options.traceparent === undefined ? {} : { traceparent: options.traceparent };
}

/**
 * With `?wait=` (even 0) the daemon answers a job that has already ended (a
 * cache hit) with its view; the submit answer it stands for has position 0.
 */
function asSubmitted(answer: Job | Submitted): Submitted {
  if (!("tool" in answer)) return answer;
  return { job_id: answer.job_id, status: answer.status, position_in_queue: 0, links: answer.links };
}

function query(params: Record<string, string | number | boolean | Date | undefined>,
  labels?: Record<string, string>): [string, string][] {
  const q: [string, string][] = [];
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.push([k, param(k, v)]);
  for (const [k, v] of Object.entries(labels ?? {})) q.push([`label.${k}`, v]);
  return q;
}

function fileName(data: UploadData): string | undefined {
  const name = (data as { name?: unknown }).name;
  return typeof name === "string" && name !== "" ? name : undefined;
}

function downloadCall(fileId: string, options: DownloadOptions): Call {
  const headers: Record<string, string> = { Accept: "application/octet-stream, application/problem+json" };
  if (options.range !== undefined) {
    const [start, end] = options.range;
    if (!Number.isInteger(start) || start < 0 || (end !== undefined && (!Number.isInteger(end) || end < start)))
      throw new RangeError(`range must be [start, end] with 0 <= start <= end (inclusive), not ${JSON.stringify(options.range)}`);
    headers.Range = `bytes=${start}-${end ?? ""}`;
  }
  return { method: "GET", route: "/v1/files/{id}", path: `/v1/files/${id(fileId, "fileId")}`, headers, ok: [206], download: true };
}

/**
 * An answer's body read through the request's deadline. In whole mode the one
 * deadline of the request runs on until the body ends; in transfer mode
 * (`pauseMs`) each read must bring data within `pauseMs`. A failure is a
 * TransportError whose `cause` is the platform's error.
 */
function guardedBody(body: ReadableStream<Uint8Array>, deadline: Deadline, pauseMs: number | undefined, what: string): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pauseMs !== undefined) deadline.arm(pauseMs, `no data for ${pauseMs} ms`);
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        deadline.clear();
        throw new TransportError(`${what}: the answer broke off: ${deadline.why ?? describe(e)}`, { cause: e });
      }
      if (chunk.done) {
        deadline.clear();
        controller.close();
      } else {
        if (pauseMs !== undefined) deadline.clear();
        controller.enqueue(chunk.value);
      }
    },
    cancel(reason) {
      deadline.clear();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

export class Client {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly reconnectTimeoutMs: number | undefined;
  private readonly streamIdleMs: number;
  private readonly streamBufferLimit: number;
  private readonly fetchFn: typeof fetch;
  private readonly webSocket: WebSocketFactory;

  /**
   * `url` is the daemon's base URL, e.g. `http://127.0.0.1:8080` or
   * `https://host/overseer`, without a query or fragment. A bad URL, token or
   * option throws a TypeError or RangeError here.
   */
  constructor(url: string, options: ClientOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new TypeError(`url must be http(s)://HOST[:PORT][/PATH], not a ${u.protocol} URL`);
    // The paths are appended to it: a query or fragment would swallow them.
    if (u.search !== "" || u.hash !== "" || /[?#]/.test(url)) throw new TypeError("url must be a base URL without a query (?) or fragment (#)");
    this.url = url.replace(/\/+$/, "");
    this.token = checkToken(options.token);
    this.timeoutMs = duration("timeoutMs", options.timeoutMs ?? 30_000, false);
    const reconnect = options.reconnectTimeoutMs;
    this.reconnectTimeoutMs = reconnect === null || reconnect === Infinity ? undefined : duration("reconnectTimeoutMs", reconnect ?? 60_000, false);
    this.streamIdleMs = duration("streamIdleMs", options.streamIdleMs ?? 60_000, false);
    const limit = options.streamBufferLimit ?? 10_000;
    if (!Number.isInteger(limit) || limit < 2) throw new RangeError(`streamBufferLimit must be an integer >= 2, not ${String(limit)}`);
    this.streamBufferLimit = limit;
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.webSocket = options.webSocket ?? platformWebSocket;
  }

  private target(call: Call): string {
    return this.url + call.path + (call.query?.length ? "?" + new URLSearchParams(call.query).toString() : "");
  }

  /**
   * Sends one request; the response if its status is a success (or in
   * `call.ok`), else a ProblemError. Its body, read through the deadline,
   * fails with a TransportError.
   */
  protected async request(call: Call): Promise<Response> {
    const target = this.target(call);
    const what = `${call.method} ${target}`;
    const headers: Record<string, string> = { Accept: "application/json", ...call.headers };
    if (this.token !== undefined) headers.Authorization = `Bearer ${this.token}`;
    for (const [name, value] of Object.entries(headers)) checkHeader(name, value);
    const timeoutMs = this.timeoutMs;
    const transfer = call.upload !== undefined || call.download === true;
    const deadline = new Deadline();
    let body: BodyInit | undefined;
    if (call.upload !== undefined) {
      headers["Content-Type"] = "application/octet-stream";
      const size = sizeOf(call.upload);
      if (size === undefined || isNode) {
        // Node's fetch sends a stream as it reads it, so the deadline can follow
        // the upload's progress (bytes and Blobs keep their Content-Length).
        if (size !== undefined) headers["Content-Length"] = String(size);
        const source = size === undefined ? (call.upload as ReadableStream<Uint8Array>) : streamOf(call.upload as Uint8Array | ArrayBuffer | Blob);
        body = watchedUpload(source, deadline, timeoutMs);
        deadline.arm(timeoutMs, `no connection within ${timeoutMs} ms`);
      } else {
        // A browser sends bytes or a Blob out of sight: allow the time at a
        // floor rate of 64 KiB/s on top of the timeout.
        body = call.upload as BodyInit;
        const allowed = timeoutMs + size / MIN_UPLOAD_BYTES_PER_MS;
        deadline.arm(allowed, `no answer within ${Math.round(allowed)} ms (the upload's allowance at 64 KiB/s)`);
      }
    } else {
      if (call.body !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(call.body);
      }
      const wait = call.waitMs ?? 0;
      const total = timeoutMs + (wait > 0 ? wait : 0);
      deadline.arm(total, `no answer within ${total} ms`);
    }
    let response: Response;
    try {
      response = await this.fetchFn(target, {
        method: call.method,
        headers,
        body,
        // A ReadableStream body is sent as it is read (chunked); fetch needs this to allow it.
        ...(typeof ReadableStream !== "undefined" && body instanceof ReadableStream ? { duplex: "half" } : {}),
        signal: deadline.controller.signal,
      } as RequestInit);
    } catch (e) {
      deadline.clear();
      throw new TransportError(`${what}: ${deadline.why ?? describe(e)}`, { cause: e });
    }
    deadline.answered = true;
    if (transfer) deadline.clear();
    let answer = response;
    if (response.body === null) deadline.clear();
    else {
      answer = new Response(guardedBody(response.body, deadline, transfer ? timeoutMs : undefined, what), {
        status: response.status, statusText: response.statusText, headers: response.headers,
      });
    }
    if (response.ok || (call.ok ?? []).includes(response.status)) return answer;
    throw await problemError(answer);
  }

  /** Sends one request; the answer's JSON (or text), or a ProblemError; a body that breaks off or is not JSON is a TransportError. */
  protected async send<T>(call: Call): Promise<T> {
    const response = await this.request(call);
    let text: string;
    try {
      text = await response.text();
    } catch (e) {
      if (e instanceof OverseerError) throw e;
      throw new TransportError(`${call.method} ${this.target(call)}: reading the answer failed: ${describe(e)}`, { cause: e });
    }
    if (call.text) return text as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      const type = response.headers.get("Content-Type") ?? "no Content-Type";
      const size = text === "" ? "an empty body" : `${text.length} characters`;
      throw new TransportError(
        `${call.method} ${this.target(call)}: the ${response.status} answer (${type}, ${size}) is not JSON, so not the daemon's (a proxy's page, another server?)`,
        { cause: e },
      );
    }
  }

  /**
   * Submits a job; answers once it is durable (also for an immediate tool:
   * `run()` waits). `existing` is true for an idempotent repeat.
   */
  async submit(spec: JobSpec, options: SubmitOptions = {}): Promise<Submitted> {
    // ?wait=0: an immediate tool's submit would wait for the end by default.
    return asSubmitted(await this.send<Job | Submitted>({
      method: "POST", route: "/v1/jobs", path: "/v1/jobs", body: spec, query: [["wait", "0"]], headers: traceHeaders(options),
    }));
  }

  /**
   * Submits a job and waits up to `waitMs` (default 30 s; the daemon caps it
   * at its --max-wait) for its end, in one request. `finished: true` carries
   * the final view, `finished: false` the submit answer (the job goes on).
   */
  async run(spec: JobSpec, options: RunOptions = {}): Promise<RunResult> {
    const waitMs = waitOf(options.waitMs, 30_000);
    const answer = await this.send<Job | Submitted>({
      method: "POST", route: "/v1/jobs", path: "/v1/jobs", body: spec,
      query: [["wait", waitParam(waitMs)]], headers: traceHeaders(options), waitMs,
    });
    // A 200 is the finished view, or an idempotent repeat's submit answer.
    return "tool" in answer
      ? { finished: true, job_id: answer.job_id, job: answer }
      : { finished: false, job_id: answer.job_id, submitted: answer };
  }

  /** Jobs newest first; every filter given must match (`labels` all of them). */
  async listJobs(q: ListJobsQuery = {}): Promise<JobList> {
    const { labels, ...rest } = q;
    return this.send({ method: "GET", route: "/v1/jobs", path: "/v1/jobs", query: query(rest, labels) });
  }

  /** Cancels every unfinished job that matches (name a filter, or `all: true`); `dry_run` only counts. */
  async cancelJobs(filters: BulkFilters = {}): Promise<BulkCancelled> {
    const { labels, ...rest } = filters;
    return this.send({ method: "POST", route: "/v1/jobs/cancel", path: "/v1/jobs/cancel", query: query(rest, labels) });
  }

  /** Deletes every finished job that matches (name a filter, or `all: true`); `dry_run` only counts. */
  async purgeJobs(filters: Omit<BulkFilters, "reason"> = {}): Promise<BulkPurged> {
    const { labels, ...rest } = filters;
    return this.send({ method: "POST", route: "/v1/jobs/purge", path: "/v1/jobs/purge", query: query(rest, labels) });
  }

  /** The job's view; with `waitMs`, a long poll: once the job has ended, or as it is after `waitMs`. */
  async get(jobId: string, options: GetOptions = {}): Promise<Job> {
    const waitMs = options.waitMs === undefined ? undefined : waitOf(options.waitMs, 0);
    return this.send({
      method: "GET", route: "/v1/jobs/{id}", path: `/v1/jobs/${id(jobId, "jobId")}`,
      ...(waitMs === undefined ? {} : { query: [["wait", waitParam(waitMs)]], waitMs }),
    });
  }

  /** The tool's result; ConflictError (with `jobStatus`) unless the job completed. */
  async result(jobId: string): Promise<Json> {
    const answer = await this.send<{ result: Json }>({ method: "GET", route: "/v1/jobs/{id}/result", path: `/v1/jobs/${id(jobId, "jobId")}/result` });
    return answer.result;
  }

  async logs(jobId: string, q: LogsQuery = {}): Promise<LogPage> {
    return this.send({ method: "GET", route: "/v1/jobs/{id}/logs", path: `/v1/jobs/${id(jobId, "jobId")}/logs`, query: query({ ...q }) });
  }

  async history(jobId: string): Promise<Transition[]> {
    const answer = await this.send<{ transitions: Transition[] }>({ method: "GET", route: "/v1/jobs/{id}/history", path: `/v1/jobs/${id(jobId, "jobId")}/history` });
    return answer.transitions;
  }

  /** The job's webhook deliveries (its `notify.url`, the daemon's `--webhook`), pending and finished, in `seq` order. */
  async deliveries(jobId: string): Promise<Delivery[]> {
    const answer = await this.send<{ deliveries: Delivery[] }>({
      method: "GET", route: "/v1/jobs/{id}/deliveries", path: `/v1/jobs/${id(jobId, "jobId")}/deliveries`,
    });
    return answer.deliveries;
  }

  /** Cancels a pending, retrying or running job; ConflictError once terminal. */
  async cancel(jobId: string, options: ReasonOptions = {}): Promise<Job> {
    return this.send({
      method: "POST", route: "/v1/jobs/{id}/cancel", path: `/v1/jobs/${id(jobId, "jobId")}/cancel`, body: reasonBody(options),
    });
  }

  /** Re-queues a failed, timed_out or cancelled job with a fresh retry budget. */
  async retry(jobId: string, options: ReasonOptions = {}): Promise<Job> {
    return this.send({
      method: "POST", route: "/v1/jobs/{id}/retry", path: `/v1/jobs/${id(jobId, "jobId")}/retry`, body: reasonBody(options),
    });
  }

  /** Submits every job of the batch, or none (BadRequestError naming `jobs[i].field`); `traceparent` traces them. */
  async submitBatch(batch: BatchSpec, options: SubmitOptions = {}): Promise<BatchSubmitted> {
    return this.send({ method: "POST", route: "/v1/batches", path: "/v1/batches", body: batch, headers: traceHeaders(options) });
  }

  /** Batches newest first, without their job lists; every filter given must match. */
  async listBatches(q: ListBatchesQuery = {}): Promise<BatchList> {
    return this.send({ method: "GET", route: "/v1/batches", path: "/v1/batches", query: query({ ...q }) });
  }

  async getBatch(batchId: string): Promise<Batch> {
    return this.send({ method: "GET", route: "/v1/batches/{id}", path: `/v1/batches/${id(batchId, "batchId")}` });
  }

  async cancelBatch(batchId: string, options: ReasonOptions = {}): Promise<Batch> {
    return this.send({
      method: "POST", route: "/v1/batches/{id}/cancel", path: `/v1/batches/${id(batchId, "batchId")}/cancel`,
      body: reasonBody(options),
    });
  }

  async cacheStats(): Promise<CacheStats> {
    return this.send({ method: "GET", route: "/v1/cache/stats", path: "/v1/cache/stats" });
  }

  /** Removes cache entries (of `tool`, of source jobs with `labels`); resolves to how many. */
  async clearCache(filter: { tool?: string; labels?: Record<string, string> } = {}): Promise<number> {
    const answer = await this.send<{ cleared_results: number }>({
      method: "DELETE", route: "/v1/cache", path: "/v1/cache", query: query({ confirm: true, tool: filter.tool }, filter.labels),
    });
    return answer.cleared_results;
  }

  async tools(): Promise<Tool[]> {
    const answer = await this.send<{ tools: Tool[] }>({ method: "GET", route: "/v1/tools", path: "/v1/tools" });
    return answer.tools;
  }

  /** The cluster's nodes, this one first (admins and readers). */
  async nodes(): Promise<Node[]> {
    const answer = await this.send<{ nodes: Node[] }>({ method: "GET", route: "/v1/nodes", path: "/v1/nodes" });
    return answer.nodes;
  }

  /** Health; an unhealthy daemon's 503 resolves, it does not reject. */
  async health(): Promise<Health> {
    return this.send({ method: "GET", route: "/v1/health", path: "/v1/health", ok: [503] });
  }

  /** Pauses a tool: its queued jobs wait, running ones go on. */
  async pauseTool(name: string, options: ReasonOptions = {}): Promise<ToolState> {
    return this.send({
      method: "POST", route: "/v1/tools/{name}/pause", path: `/v1/tools/${id(name, "name")}/pause`, body: reasonBody(options),
    });
  }

  /** Lifts a tool's pause (an operator's or its restart intensity's). */
  async resumeTool(name: string, options: ReasonOptions = {}): Promise<ToolState> {
    return this.send({
      method: "POST", route: "/v1/tools/{name}/resume", path: `/v1/tools/${id(name, "name")}/resume`, body: reasonBody(options),
    });
  }

  /** Finished jobs over the last "1h", "24h" (the daemon's default) or "7d". */
  async metrics(timeRange?: "1h" | "24h" | "7d"): Promise<Metrics> {
    return this.send({ method: "GET", route: "/v1/metrics", path: "/v1/metrics", query: query({ time_range: timeRange }) });
  }

  /**
   * Stores a file. `data` is bytes, a Blob or a ReadableStream; in Node,
   * `await fs.openAsBlob(path)` (Node >= 19.8) streams a file from disk
   * rather than reading it whole. `name` is required unless `data` is a
   * `File`. PayloadTooLargeError over the daemon's --max-file-size. A job
   * names the file by `file_id` in a `file` param.
   */
  async uploadFile(data: UploadData, options: UploadOptions = {}): Promise<FileInfo> {
    const name = options.name ?? fileName(data);
    if (name === undefined) throw new TypeError("uploadFile: options.name is required unless data is a File");
    return this.send({ method: "POST", route: "/v1/files", path: "/v1/files", query: [["name", name]], upload: data, ok: [201] });
  }

  /** Files newest first; pass `next_cursor` as `cursor` for the next page. */
  async listFiles(q: ListFilesQuery = {}): Promise<FileList> {
    return this.send({ method: "GET", route: "/v1/files", path: "/v1/files", query: query({ ...q }) });
  }

  /** The file's bytes, whole or `range: [start, end]` (inclusive). NotFoundError for an unknown id. */
  async downloadFile(fileId: string, options: DownloadOptions = {}): Promise<Uint8Array> {
    const response = await this.request(downloadCall(fileId, options));
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      if (e instanceof OverseerError) throw e;
      throw new TransportError(`GET ${this.url}/v1/files/${id(fileId, "fileId")}: reading the file failed: ${describe(e)}`, { cause: e });
    }
  }

  /**
   * The file's bytes as a stream, read as they arrive (for large files):
   * in Node, `await pipeline(Readable.fromWeb(stream), createWriteStream(path))`.
   * A read fails with TransportError when the connection breaks or no data
   * comes for `timeoutMs` (a pipeline then rejects with it: remove the partial file).
   */
  async downloadStream(fileId: string, options: DownloadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const response = await this.request(downloadCall(fileId, options));
    return response.body ?? new ReadableStream({ start: (c) => c.close() });
  }

  /** Deletes the file; ConflictError while an unfinished job uses it, NotFoundError once gone. */
  async deleteFile(fileId: string): Promise<boolean> {
    const answer = await this.send<{ deleted: boolean }>({ method: "DELETE", route: "/v1/files/{id}", path: `/v1/files/${id(fileId, "fileId")}` });
    return answer.deleted;
  }

  /** The daemon's OpenAPI document, as YAML text. */
  async openapi(): Promise<string> {
    return this.send({ method: "GET", route: "/v1/openapi.yaml", path: "/v1/openapi.yaml", text: true });
  }

  /**
   * Watches one job, one batch, or all jobs (optionally filtered by `tool`
   * and `labels`). The first item is the `Subscribed` acknowledgement (a job
   * watch carries the snapshot), then every event once, in `seq` order,
   * reconnecting with `since` when the connection breaks.
   */
  watch(options: WatchOptions): Watch {
    return new Watch({
      httpUrl: this.url,
      token: this.token,
      webSocket: this.webSocket,
      fetch: this.fetchFn,
      connectTimeoutMs: this.timeoutMs,
      reconnectTimeoutMs: this.reconnectTimeoutMs,
      idleMs: this.streamIdleMs,
      bufferLimit: this.streamBufferLimit,
    }, options);
  }

  /** Resolves to the job's view once it is terminal; WaitTimeout after `timeoutMs` (none, or Infinity: no limit). */
  async wait(jobId: string, options: { timeoutMs?: number } = {}): Promise<Job> {
    const timeoutMs = duration("timeoutMs", options.timeoutMs ?? Infinity);
    const watch = this.watch({ job_id: jobId });
    let timedOut = false;
    const cancel = after(timeoutMs, () => {
      timedOut = true;
      watch.close();
    });
    try {
      for await (const item of watch) {
        if (item.type === "subscribed") {
          if (item.snapshot !== undefined && TERMINAL.has(item.snapshot.status)) return item.snapshot;
        } else if (item.type === "transition" && TERMINAL.has(item.to)) {
          return await this.get(jobId);
        }
      }
    } finally {
      cancel();
      watch.close();
    }
    if (timedOut) throw new WaitTimeout(`job ${jobId} did not finish within ${timeoutMs} ms`);
    throw new TransportError(`the stream of job ${jobId} ended`);
  }
}
