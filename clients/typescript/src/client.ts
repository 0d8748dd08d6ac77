/**
 * `Client`: one async method per endpoint of docs/api.md, over the
 * platform's `fetch`, plus `watch()` over the WebSocket stream and `wait()`.
 *
 *   const client = new Client("http://127.0.0.1:8080", { token });
 *   const { job_id } = await client.submit({ tool: "sleep", params: { seconds: 2 } });
 *   const job = await client.wait(job_id, { timeoutMs: 60_000 });
 *   const run = await client.run({ tool: "noop" }, { waitMs: 10_000 }); // submit and wait, one request
 */
import { problemError, TransportError, WaitTimeout } from "./errors.js";
import { platformWebSocket, Watch, type WebSocketFactory } from "./stream.js";
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
  /** A bearer token, sent on every request and the stream. */
  token?: string;
  /** Bounds each request and each stream connection attempt (default 30 000). */
  timeoutMs?: number;
  /** How long a watch keeps reconnecting before it throws TransportError (default 60 000; null: forever). */
  reconnectTimeoutMs?: number | null;
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

const id = encodeURIComponent;

function param(value: string | number | boolean | Date): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

/** `?wait=` in whole milliseconds, which the daemon reads exactly. */
function waitParam(ms: number): string {
  return `${Math.round(ms)}ms`;
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
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.push([k, param(v)]);
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
  return { method: "GET", route: "/v1/files/{id}", path: `/v1/files/${id(fileId)}`, headers, ok: [206] };
}

export class Client {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly reconnectTimeoutMs: number | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly webSocket: WebSocketFactory;

  /** `url` is the daemon's base URL, e.g. `http://127.0.0.1:8080`. */
  constructor(url: string, options: ClientOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new TypeError(`url must be http(s)://HOST[:PORT], not ${url}`);
    this.url = url.replace(/\/+$/, "");
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.reconnectTimeoutMs = options.reconnectTimeoutMs === null ? undefined : (options.reconnectTimeoutMs ?? 60_000);
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.webSocket = options.webSocket ?? platformWebSocket;
  }

  /** Sends one request; the response if its status is a success (or in `call.ok`), else a ProblemError. */
  protected async request(call: Call): Promise<Response> {
    const target = this.url + call.path + (call.query?.length ? "?" + new URLSearchParams(call.query).toString() : "");
    const headers: Record<string, string> = { Accept: "application/json", ...call.headers };
    if (this.token !== undefined) headers.Authorization = `Bearer ${this.token}`;
    let body: BodyInit | undefined;
    if (call.upload !== undefined) {
      headers["Content-Type"] = "application/octet-stream";
      body = call.upload as BodyInit;
    } else if (call.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(call.body);
    }
    let response: Response;
    try {
      response = await this.fetchFn(target, {
        method: call.method,
        headers,
        body,
        // A ReadableStream body is sent as it is read (chunked); fetch needs this to allow it.
        ...(typeof ReadableStream !== "undefined" && body instanceof ReadableStream ? { duplex: "half" } : {}),
        signal: AbortSignal.timeout(this.timeoutMs + Math.max(call.waitMs ?? 0, 0)),
      } as RequestInit);
    } catch (e) {
      throw new TransportError(`${call.method} ${target}: ${(e as Error).message}`);
    }
    if (response.ok || (call.ok ?? []).includes(response.status)) return response;
    throw await problemError(response);
  }

  /** Sends one request; the answer's JSON (or text), or a ProblemError. */
  protected async send<T>(call: Call): Promise<T> {
    const response = await this.request(call);
    return (call.text ? await response.text() : await response.json()) as T;
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
    const waitMs = options.waitMs ?? 30_000;
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
  listJobs(q: ListJobsQuery = {}): Promise<JobList> {
    const { labels, ...rest } = q;
    return this.send({ method: "GET", route: "/v1/jobs", path: "/v1/jobs", query: query(rest, labels) });
  }

  /** Cancels every unfinished job that matches (name a filter, or `all: true`); `dry_run` only counts. */
  cancelJobs(filters: BulkFilters = {}): Promise<BulkCancelled> {
    const { labels, ...rest } = filters;
    return this.send({ method: "POST", route: "/v1/jobs/cancel", path: "/v1/jobs/cancel", query: query(rest, labels) });
  }

  /** Deletes every finished job that matches (name a filter, or `all: true`); `dry_run` only counts. */
  purgeJobs(filters: Omit<BulkFilters, "reason"> = {}): Promise<BulkPurged> {
    const { labels, ...rest } = filters;
    return this.send({ method: "POST", route: "/v1/jobs/purge", path: "/v1/jobs/purge", query: query(rest, labels) });
  }

  /** The job's view; with `waitMs`, a long poll: once the job has ended, or as it is after `waitMs`. */
  get(jobId: string, options: GetOptions = {}): Promise<Job> {
    const { waitMs } = options;
    return this.send({
      method: "GET", route: "/v1/jobs/{id}", path: `/v1/jobs/${id(jobId)}`,
      ...(waitMs === undefined ? {} : { query: [["wait", waitParam(waitMs)]], waitMs }),
    });
  }

  /** The tool's result; ConflictError (with `jobStatus`) unless the job completed. */
  async result(jobId: string): Promise<Json> {
    const answer = await this.send<{ result: Json }>({ method: "GET", route: "/v1/jobs/{id}/result", path: `/v1/jobs/${id(jobId)}/result` });
    return answer.result;
  }

  logs(jobId: string, q: LogsQuery = {}): Promise<LogPage> {
    return this.send({ method: "GET", route: "/v1/jobs/{id}/logs", path: `/v1/jobs/${id(jobId)}/logs`, query: query({ ...q }) });
  }

  async history(jobId: string): Promise<Transition[]> {
    const answer = await this.send<{ transitions: Transition[] }>({ method: "GET", route: "/v1/jobs/{id}/history", path: `/v1/jobs/${id(jobId)}/history` });
    return answer.transitions;
  }

  /** The job's webhook deliveries (its `notify.url`, the daemon's `--webhook`), pending and finished, in `seq` order. */
  async deliveries(jobId: string): Promise<Delivery[]> {
    const answer = await this.send<{ deliveries: Delivery[] }>({
      method: "GET", route: "/v1/jobs/{id}/deliveries", path: `/v1/jobs/${id(jobId)}/deliveries`,
    });
    return answer.deliveries;
  }

  /** Cancels a pending, retrying or running job; ConflictError once terminal. */
  cancel(jobId: string, options: ReasonOptions = {}): Promise<Job> {
    return this.send({
      method: "POST", route: "/v1/jobs/{id}/cancel", path: `/v1/jobs/${id(jobId)}/cancel`, body: reasonBody(options),
    });
  }

  /** Re-queues a failed, timed_out or cancelled job with a fresh retry budget. */
  retry(jobId: string, options: ReasonOptions = {}): Promise<Job> {
    return this.send({
      method: "POST", route: "/v1/jobs/{id}/retry", path: `/v1/jobs/${id(jobId)}/retry`, body: reasonBody(options),
    });
  }

  /** Submits every job of the batch, or none (BadRequestError naming `jobs[i].field`); `traceparent` traces them. */
  submitBatch(batch: BatchSpec, options: SubmitOptions = {}): Promise<BatchSubmitted> {
    return this.send({ method: "POST", route: "/v1/batches", path: "/v1/batches", body: batch, headers: traceHeaders(options) });
  }

  /** Batches newest first, without their job lists; every filter given must match. */
  listBatches(q: ListBatchesQuery = {}): Promise<BatchList> {
    return this.send({ method: "GET", route: "/v1/batches", path: "/v1/batches", query: query({ ...q }) });
  }

  getBatch(batchId: string): Promise<Batch> {
    return this.send({ method: "GET", route: "/v1/batches/{id}", path: `/v1/batches/${id(batchId)}` });
  }

  cancelBatch(batchId: string, options: ReasonOptions = {}): Promise<Batch> {
    return this.send({
      method: "POST", route: "/v1/batches/{id}/cancel", path: `/v1/batches/${id(batchId)}/cancel`,
      body: reasonBody(options),
    });
  }

  cacheStats(): Promise<CacheStats> {
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
  health(): Promise<Health> {
    return this.send({ method: "GET", route: "/v1/health", path: "/v1/health", ok: [503] });
  }

  /** Pauses a tool: its queued jobs wait, running ones go on. */
  pauseTool(name: string, options: ReasonOptions = {}): Promise<ToolState> {
    return this.send({
      method: "POST", route: "/v1/tools/{name}/pause", path: `/v1/tools/${id(name)}/pause`, body: reasonBody(options),
    });
  }

  /** Lifts a tool's pause (an operator's or its restart intensity's). */
  resumeTool(name: string, options: ReasonOptions = {}): Promise<ToolState> {
    return this.send({
      method: "POST", route: "/v1/tools/{name}/resume", path: `/v1/tools/${id(name)}/resume`, body: reasonBody(options),
    });
  }

  /** Finished jobs over the last "1h", "24h" (the daemon's default) or "7d". */
  metrics(timeRange?: "1h" | "24h" | "7d"): Promise<Metrics> {
    return this.send({ method: "GET", route: "/v1/metrics", path: "/v1/metrics", query: query({ time_range: timeRange }) });
  }

  /**
   * Stores a file. `data` is bytes, a Blob or a ReadableStream; in Node,
   * `await fs.openAsBlob(path)` (Node >= 19.8) streams a file from disk
   * rather than reading it whole. `name` is required unless `data` is a
   * `File`. PayloadTooLargeError over the daemon's --max-file-size. A job
   * names the file by `file_id` in a `file` param.
   */
  uploadFile(data: UploadData, options: UploadOptions = {}): Promise<FileInfo> {
    const name = options.name ?? fileName(data);
    if (name === undefined) return Promise.reject(new TypeError("uploadFile: options.name is required unless data is a File"));
    return this.send({ method: "POST", route: "/v1/files", path: "/v1/files", query: [["name", name]], upload: data, ok: [201] });
  }

  /** Files newest first; pass `next_cursor` as `cursor` for the next page. */
  listFiles(q: ListFilesQuery = {}): Promise<FileList> {
    return this.send({ method: "GET", route: "/v1/files", path: "/v1/files", query: query({ ...q }) });
  }

  /** The file's bytes, whole or `range: [start, end]` (inclusive). NotFoundError for an unknown id. */
  async downloadFile(fileId: string, options: DownloadOptions = {}): Promise<Uint8Array> {
    const response = await this.request(downloadCall(fileId, options));
    return new Uint8Array(await response.arrayBuffer());
  }

  /**
   * The file's bytes as a stream, read as they arrive (for large files):
   * in Node, `await pipeline(Readable.fromWeb(stream), createWriteStream(path))`.
   */
  async downloadStream(fileId: string, options: DownloadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const response = await this.request(downloadCall(fileId, options));
    return response.body ?? new ReadableStream({ start: (c) => c.close() });
  }

  /** Deletes the file; ConflictError while an unfinished job uses it, NotFoundError once gone. */
  async deleteFile(fileId: string): Promise<boolean> {
    const answer = await this.send<{ deleted: boolean }>({ method: "DELETE", route: "/v1/files/{id}", path: `/v1/files/${id(fileId)}` });
    return answer.deleted;
  }

  /** The daemon's OpenAPI document, as YAML text. */
  openapi(): Promise<string> {
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
    }, options);
  }

  /** Resolves to the job's view once it is terminal; WaitTimeout after `timeoutMs`. */
  async wait(jobId: string, options: { timeoutMs?: number } = {}): Promise<Job> {
    const watch = this.watch({ job_id: jobId });
    let timedOut = false;
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      watch.close();
    }, options.timeoutMs);
    try {
      for await (const item of watch) {
        if (item.type === "subscribed") {
          if (item.snapshot !== undefined && TERMINAL.has(item.snapshot.status)) return item.snapshot;
        } else if (item.type === "transition" && TERMINAL.has(item.to)) {
          return await this.get(jobId);
        }
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      watch.close();
    }
    if (timedOut) throw new WaitTimeout(`job ${jobId} did not finish within ${options.timeoutMs} ms`);
    throw new TransportError(`the stream of job ${jobId} ended`);
  }
}
