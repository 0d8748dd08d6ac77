/**
 * The documents of the Overseer API (docs/api.md, "Documents"), as the
 * daemon sends them: timestamps are RFC 3339 UTC strings with milliseconds
 * (`2026-11-25T00:12:23.108Z`), optional fields are absent rather than null.
 * Request types leave every optional field out unless set, so the daemon
 * applies the tool's and the engine's defaults.
 */

export type JobStatus = "pending" | "running" | "retrying" | "completed" | "failed" | "cancelled" | "timed_out";
export type BatchStatus = "pending" | "running" | "completed" | "failed" | "cancelled";
export type LogLevel = "debug" | "info" | "warning" | "error" | "critical";
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Statuses no job leaves unless it is retried explicitly. */
export const TERMINAL: ReadonlySet<JobStatus> = new Set<JobStatus>(["completed", "failed", "cancelled", "timed_out"]);

/** In a spec only the fields given override the tool's policy; in a view every field is set. */
export interface RetryPolicy {
  max_attempts?: number;
  initial_backoff_ms?: number;
  max_backoff_ms?: number;
  multiplier?: number;
  retry_on_timeout?: boolean;
}

/** The body of a submit. Only `tool` is required. */
export interface JobSpec {
  tool: string;
  params?: { [name: string]: Json };
  name?: string;
  priority?: number;
  labels?: Record<string, string>;
  timeout_s?: number;
  retry?: RetryPolicy;
  ttl_hours?: number;
  use_cache?: boolean;
  depends_on?: string[];
  idempotency_key?: string;
  run_at?: string;
  delay_s?: number;
  /** A W3C trace id (32 lowercase hex digits, not all zero); wins over a `traceparent`. */
  trace_id?: string;
  /** POST this job's events to a URL (docs/api.md, "Webhooks"). */
  notify?: Notify;
  /** In a cluster (docs/cluster.md): node labels every attempt's node must hold. */
  node_selector?: Record<string, string>;
}

/** Where a job's events go; the URL's host must be on the daemon's `--webhook-allow` list. */
export interface Notify {
  url: string;
  /** The kinds of events delivered (the daemon's default: `["transition"]`). */
  events?: ("transition" | "progress" | "log")[];
}

/** Options of `submit()` and `submitBatch()`. */
export interface SubmitOptions {
  /** A W3C `traceparent` header: its trace id becomes the job's `trace_id` unless the spec has one. */
  traceparent?: string;
}

/** Options of `run()`. */
export interface RunOptions extends SubmitOptions {
  /** How long the daemon may wait for the job's end (default 30 000; capped by its --max-wait; 0: answer at once). */
  waitMs?: number;
}

/** Options of `get()`. */
export interface GetOptions {
  /** A long poll: answer once the job has ended, or as it is after this long. */
  waitMs?: number;
}

/** Options of `pauseTool()`, `cancel()`, `retry()` and `cancelBatch()`: the operator's reason. */
export interface ReasonOptions {
  /** Why, kept after who did it ("cancelled by client 127.0.0.1: REASON"); one line, at most 500 bytes. */
  reason?: string;
}

/** Jobs start in list order, at most `parallel_limit` at once (0: no limit of its own). */
export interface BatchSpec {
  jobs: JobSpec[];
  name?: string;
  parallel_limit?: number;
  fail_fast?: boolean;
}

export interface Progress {
  percent: number;
  current_step: number;
  total_steps: number;
  step_name: string;
  estimated_completion?: string;
  /** `"rate"` when `estimated_completion` is the engine's, from the progress rate (the tool gave none). */
  estimated_completion_source?: "rate";
}

export interface Links {
  self: string;
  result?: string;
  logs?: string;
  history?: string;
}

/** The job view: `GET /v1/jobs/{id}`, cancel, retry, list entries, stream snapshots. */
export interface Job {
  job_id: string;
  tool: string;
  name: string;
  status: JobStatus;
  attempt: number;
  /** Of `attempt`, those counted against `retry.max_attempts` (not one a restart or a lost node interrupted, nor one before an explicit retry). */
  attempts_counted: number;
  priority: number;
  labels: Record<string, string>;
  params: { [name: string]: Json };
  progress: Progress;
  result?: Json;
  error?: string;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  next_attempt_at?: string;
  duration_ms?: number;
  timeout_s?: number;
  retry: Required<RetryPolicy>;
  ttl_hours: number;
  expires_at?: string;
  idempotency_key?: string;
  batch_id?: string;
  /** The principal of the daemon's tokens file that submitted it. */
  owner?: string;
  depends_on?: string[];
  waiting_on?: string[];
  run_at?: string;
  use_cache: boolean;
  cache_info?: { cached_at: string; source_job_id: string };
  links: Links;
  /** Its W3C trace id, when it has one. */
  trace_id?: string;
  /** In a cluster: the node of its latest attempt, and the labels it requires. */
  node?: string;
  node_selector?: Record<string, string>;
  /** While pending, retrying or running, once its tool has a history: seconds until it is expected to end. An estimate. */
  estimated_duration_s?: number;
  /** With `estimated_duration_s`: how long a run of its tool typically takes. */
  estimated_run_s?: number;
}

/** 202 for a new job; 200 with `existing: true` for an idempotent repeat. */
export interface Submitted {
  job_id: string;
  status: JobStatus;
  position_in_queue: number;
  links: Links;
  existing?: boolean;
  /** Seconds until the job is expected to end, once its tool has a history. An estimate. */
  estimated_duration_s?: number;
}

/**
 * The answer of `run()`: `finished` with the job's final view (whatever its
 * final status) when it ended within the wait, else the submit answer, and
 * the job goes on (follow it with `get(job_id, { waitMs })` or `wait()`).
 */
export type RunResult =
  | { finished: true; job_id: string; job: Job }
  | { finished: false; job_id: string; submitted: Submitted };

export interface ListJobsQuery {
  status?: JobStatus;
  tool?: string;
  /** Every label must match exactly (`label.KEY=VALUE`). */
  labels?: Record<string, string>;
  batch_id?: string;
  /** Only the jobs of this W3C trace id. */
  trace_id?: string;
  /** Only jobs whose name contains this text, ASCII letters in any case. */
  name_contains?: string;
  created_after?: string | Date;
  created_before?: string | Date;
  limit?: number;
  offset?: number;
  page?: number;
  page_size?: number;
}

/** The filters of POST /v1/jobs/cancel and /v1/jobs/purge: those of GET /v1/jobs. */
export interface BulkFilters {
  /** `cancelJobs()` only: the operator's reason, kept in each job's cancel. */
  reason?: string;
  status?: JobStatus;
  tool?: string;
  labels?: Record<string, string>;
  batch_id?: string;
  trace_id?: string;
  name_contains?: string;
  created_after?: string | Date;
  created_before?: string | Date;
  /** Every job, no filter: a request without a filter is refused otherwise. */
  all?: boolean;
  /** Count the matching jobs, change nothing. */
  dry_run?: boolean;
}

/** POST /v1/jobs/cancel: unfinished jobs that matched, and how many were cancelled. */
export interface BulkCancelled {
  matched: number;
  cancelled: number;
  dry_run: boolean;
}

/** POST /v1/jobs/purge: finished jobs that matched, and how many were deleted. */
export interface BulkPurged {
  matched: number;
  deleted: number;
  dry_run: boolean;
}

export interface ListBatchesQuery {
  status?: BatchStatus;
  name?: string;
  created_after?: string | Date;
  created_before?: string | Date;
  limit?: number;
  offset?: number;
}

/** A batch in GET /v1/batches: the batch view without its list of jobs. */
export type BatchSummary = Omit<Batch, "jobs">;

export interface BatchList {
  batches: BatchSummary[];
  total_count: number;
  has_next: boolean;
  limit: number;
  offset: number;
}

export interface JobList {
  jobs: Job[];
  total_count: number;
  has_next: boolean;
  limit: number;
  offset: number;
  page?: number;
  page_size?: number;
}

/** One entry of a job's history; `from` is null for the creation entry. */
export interface Transition {
  from: JobStatus | null;
  to: JobStatus;
  at: string;
  attempt: number;
  reason: string;
  /** In a cluster: the node the attempt ran on (transitions into or out of running). */
  node?: string;
}

export interface LogLine {
  at: string;
  level: LogLevel;
  message: string;
  component: "tool" | "engine";
}

export interface LogsQuery {
  level?: LogLevel;
  limit?: number;
  offset?: number;
}

export interface LogPage {
  job_id: string;
  logs: LogLine[];
  total: number;
  limit: number;
  offset: number;
}

/** A node of the cluster (GET /v1/nodes, docs/cluster.md): this one first. */
export interface Node {
  name: string;
  /** `local` for the scheduler node itself; a worker's host name. */
  address: string;
  local: boolean;
  labels: { [key: string]: string };
  capacity: number;
  running: number;
  joined_at: string;
  last_heartbeat: string;
  tools: { name: string; version: string }[];
}

export interface Tool {
  name: string;
  version: string;
  description: string;
  params: { [name: string]: { [key: string]: Json } };
  timeout_s: number | null;
  max_concurrent: number;
  retry: Required<RetryPolicy>;
  /** Only for a tool that declares output files: their names or globs (docs/tools.md). */
  outputs?: string[];
  /** `immediate`: a fast tool with a pool of its own, whose submit waits for the end. */
  mode?: "queued" | "immediate";
  /** Whether the tool is paused (GET /v1/tools), and why and by whom. */
  paused?: boolean;
  paused_reason?: string | null;
  /** When the pause began (RFC 3339), while paused. */
  paused_since?: string | null;
}

export interface BatchSubmitted {
  batch_id: string;
  job_ids: string[];
  links: { self: string };
}

/** The batch view; `batch_status` is computed from the jobs on every read. */
export interface Batch {
  batch_id: string;
  name: string;
  batch_status: BatchStatus;
  parallel_limit: number;
  fail_fast: boolean;
  created_at: string;
  total_jobs: number;
  counts: Record<JobStatus, number>;
  jobs: { job_id: string; status: JobStatus }[];
  /** The principal of the daemon's tokens file that submitted it. */
  owner?: string;
}

/** A tool after POST /v1/tools/{name}/pause or /resume. */
export interface ToolState {
  name: string;
  paused: boolean;
  paused_reason: string | null;
  paused_since: string | null;
  running: number;
  queued: number;
  retrying: number;
  recent_failures: number;
}

/** Jobs that finished within a window: rates are fractions 0-1, durations seconds; null when no job counts. */
export interface WindowFigures {
  total_jobs: number;
  completed: number;
  failed: number;
  cancelled: number;
  timed_out: number;
  success_rate: number | null;
  error_rate: number | null;
  cache_hit_rate: number | null;
  average_duration_seconds: number | null;
  p50_duration_seconds: number | null;
  p95_duration_seconds: number | null;
}

/** GET /v1/metrics: the window's figures, all tools and by tool. */
export interface Metrics extends WindowFigures {
  time_range: "1h" | "24h" | "7d";
  from: string;
  to: string;
  by_tool: Record<string, WindowFigures>;
}

export interface CacheStats {
  total_cached_results: number;
  cache_hit_rate: number;
  cache_hits: number;
  cache_misses: number;
  total_cache_size_mb: number;
  oldest_cached_result: string | null;
  newest_cached_result: string | null;
}

/** A component of the health document: `healthy`, or what is wrong in `detail`. */
export interface HealthComponent {
  status: string;
  detail?: string;
  [key: string]: Json | undefined;
}

/** A tool in the health document; `registered: false` (with its `paused_reason`) for a stored pause of a tool no longer registered. */
export interface ToolHealth {
  status: "healthy" | "paused";
  running: number;
  recent_failures: number;
  registered?: boolean;
  paused_reason?: string;
}

/**
 * GET /v1/health. Without a valid token (when tokens are configured) the
 * daemon answers only `{status: "ok" | "unhealthy"}`; the rest is there with one.
 * `draining`: a SIGTERM stop is under way (200; `ready` is false).
 */
export interface Health {
  status: "healthy" | "degraded" | "draining" | "unhealthy" | "ok";
  components?: {
    store?: HealthComponent & { corrupt_records?: number };
    scheduler?: HealthComponent;
    tools?: { [name: string]: ToolHealth };
    [name: string]: unknown;
  };
  queue_stats?: { pending_jobs: number; running_jobs: number; retrying_jobs: number };
  /** The daemon takes work: healthy or degraded, not draining. */
  ready?: boolean;
  version?: string;
  /** Seconds since the HTTP server started (after recovery). */
  uptime_seconds?: number;
  data_dir?: string;
}

// ---- stream messages --------------------------------------------------------

/** The acknowledgement of a watch's first subscription; a job watch carries its snapshot. */
/**
 * A stored file (`uploadFile()`, `listFiles()`). `owner` is set with a
 * tokens file, `job_id` for a tool's output file. A job's result lists its
 * output files as plain JSON.
 */
export interface FileInfo {
  file_id: string;
  name: string;
  size: number;
  /** Lowercase hex. */
  sha256: string;
  created_at: string;
  owner?: string;
  job_id?: string;
}

/** A page of files, newest first; pass `next_cursor` as `cursor` for the next (absent on the last). */
export interface FileList {
  files: FileInfo[];
  limit: number;
  has_next: boolean;
  next_cursor?: string;
}

export interface ListFilesQuery {
  /** 1-1000 (the daemon's default 100). */
  limit?: number;
  cursor?: string;
}

/** What `uploadFile()` sends: bytes, a Blob (Node's `fs.openAsBlob(path)` streams a file from disk) or a stream. */
export type UploadData = Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

export interface UploadOptions {
  /** The file's name (any UTF-8, 1-1024 bytes); defaults to a `File`'s name. */
  name?: string;
}

export interface DownloadOptions {
  /** `[start, end]`, both inclusive; without `end`, to the end of the file. An end past the file is clipped. */
  range?: [number, number?];
}

/** One webhook delivery of a job's event (`deliveries()`). */
export interface Delivery {
  /** The `Overseer-Delivery` header: `dlv_<seq>_job` (its notify.url) or `dlv_<seq>_all` (the daemon's --webhook). */
  id: string;
  seq: number;
  event: "transition" | "progress" | "log";
  url: string;
  /** POSTs made so far. */
  attempts: number;
  status: "pending" | "delivered" | "failed";
  /** The last answer's HTTP status; 0 for none. */
  last_status_code: number;
  /** Why the last attempt failed; "" after a success. */
  last_error: string;
  /** When it is tried next, while pending. */
  next_attempt_at: string | null;
  delivered_at: string | null;
}

export interface Subscribed {
  type: "subscribed";
  seq: number;
  job_id?: string;
  batch_id?: string;
  all?: boolean;
  snapshot?: Job;
  batch_status?: BatchStatus;
  since?: number;
}

export interface TransitionEvent extends Transition {
  type: "transition";
  seq: number;
  job_id: string;
  batch_id?: string;
  trace_id?: string;
}

export interface ProgressEvent {
  type: "progress";
  seq: number;
  job_id: string;
  batch_id?: string;
  trace_id?: string;
  progress: Progress;
  at: string;
}

export interface LogEvent extends LogLine {
  type: "log";
  seq: number;
  job_id: string;
  batch_id?: string;
  trace_id?: string;
}

export type StreamEvent = TransitionEvent | ProgressEvent | LogEvent;
export type StreamItem = Subscribed | StreamEvent;

/** What a watch subscribes to: exactly one of `job_id`, `batch_id`, `all`. */
export interface WatchOptions {
  job_id?: string;
  batch_id?: string;
  all?: boolean;
  /** Only for `all`: the job's tool must be this one. */
  tool?: string;
  /** Only for `all`: every label must match. */
  labels?: Record<string, string>;
  /** Include log events (default: transitions and progress only). */
  logs?: boolean;
  /** Replay every retained event after this sequence number first. */
  since?: number;
}
