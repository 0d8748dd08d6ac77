"""The documents of the Overseer API (docs/api.md, "Documents") as dataclasses.

Answers are decoded by `decode(cls, obj)`, which reads each field by its JSON
name, converts timestamps to timezone-aware `datetime` and nested documents to
their dataclasses, and ignores fields this version of the client does not know
(a newer daemon may add some). Requests (`JobSpec`, `BatchSpec`) are encoded
by `to_json()`, which leaves out every field that is `None`: the daemon then
applies the tool's and the engine's defaults, and an idempotent repeat
compares only what was written.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, Mapping, TypeVar, Union

JobStatus = Literal["pending", "running", "retrying", "completed", "failed", "cancelled", "timed_out"]
BatchStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]

#: Statuses no job leaves unless it is retried explicitly.
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled", "timed_out"})

T = TypeVar("T")


def format_time(t: datetime | str) -> str:
    """RFC 3339 UTC with milliseconds, as the daemon writes it; strings pass unchanged."""
    if isinstance(t, str):
        return t
    if t.tzinfo is None:
        raise ValueError(f"timestamp {t!r} has no time zone; use an aware datetime")
    return t.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_name(f: dataclasses.Field[Any]) -> str:
    return f.metadata.get("json", f.name)


def _decode_value(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode_value(inner[0], value) if len(inner) == 1 else value
    if origin is list:
        return [_decode_value(typing.get_args(tp)[0], v) for v in value]
    if origin is dict:
        return {k: _decode_value(typing.get_args(tp)[1], v) for k, v in value.items()}
    if tp is datetime:
        return datetime.fromisoformat(value)
    if dataclasses.is_dataclass(tp):
        return decode(tp, value)
    return value


def decode(cls: type[T], obj: Mapping[str, Any]) -> T:
    """Builds `cls` from a JSON object; a missing required field raises TypeError."""
    hints = typing.get_type_hints(cls)
    kwargs = {f.name: _decode_value(hints[f.name], obj[_json_name(f)])
              for f in dataclasses.fields(cls) if _json_name(f) in obj}
    return cls(**kwargs)


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_json_name(f): _encode_value(getattr(value, f.name))
                for f in dataclasses.fields(value) if getattr(value, f.name) is not None}
    if isinstance(value, (list, tuple)):
        return [_encode_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _encode_value(v) for k, v in value.items()}
    return value


# ---- requests -------------------------------------------------------------

@dataclass
class RetryPolicy:
    """A retry policy. In a spec, only the fields given override the tool's
    policy; in a view or a tool, every field is set."""
    max_attempts: int | None = None
    initial_backoff_ms: int | None = None
    max_backoff_ms: int | None = None
    multiplier: float | None = None
    retry_on_timeout: bool | None = None


@dataclass
class Notify:
    """Where a job's events are POSTed (docs/api.md, "Webhooks"): the URL's
    host must be on the daemon's `--webhook-allow` list. `events` is any of
    "transition", "progress", "log" (the daemon's default: transitions)."""
    url: str
    events: list[str] | None = None


@dataclass
class JobSpec:
    """The body of a submit. Only `tool` is required; `None` means "not sent"."""
    tool: str
    params: dict[str, Any] | None = None
    name: str | None = None
    priority: int | None = None
    labels: dict[str, str] | None = None
    timeout_s: float | None = None
    retry: RetryPolicy | None = None
    ttl_hours: int | None = None
    use_cache: bool | None = None
    depends_on: list[str] | None = None
    idempotency_key: str | None = None
    run_at: datetime | str | None = None
    delay_s: float | None = None
    trace_id: str | None = None  # a W3C trace id (32 lowercase hex digits); wins over a traceparent
    notify: Notify | Mapping[str, Any] | None = None
    #: In a cluster (docs/cluster.md): node labels every attempt's node must hold.
    node_selector: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = _encode_value(self)
        return body


@dataclass
class BatchSpec:
    """The body of a batch submit: jobs start in list order, at most
    `parallel_limit` at once (0: no limit of its own)."""
    jobs: list[JobSpec | Mapping[str, Any]]
    name: str | None = None
    parallel_limit: int | None = None
    fail_fast: bool | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = _encode_value(self)
        return body


def encode_body(spec: Any) -> Any:
    """A spec dataclass or a plain mapping, as JSON."""
    return spec.to_json() if hasattr(spec, "to_json") else _encode_value(spec)


# ---- answers --------------------------------------------------------------

@dataclass
class Progress:
    percent: float = 0
    current_step: int = 0
    total_steps: int = 0
    step_name: str = ""
    estimated_completion: datetime | None = None
    #: "rate" when `estimated_completion` is the engine's, from the progress
    #: rate so far (the tool reported none); None when the tool gave it.
    estimated_completion_source: str | None = None


@dataclass
class CacheInfo:
    cached_at: datetime
    source_job_id: str


@dataclass
class Job:
    """The job view: `GET /v1/jobs/{id}`, cancel, retry, list entries, stream snapshots."""
    job_id: str
    tool: str
    name: str
    status: JobStatus
    attempt: int
    priority: int
    labels: dict[str, str]
    params: dict[str, Any]
    progress: Progress
    created_at: datetime
    retry: RetryPolicy
    ttl_hours: int
    use_cache: bool
    links: dict[str, str]
    #: Of `attempt`, those counted against `retry.max_attempts` (not one a
    #: restart or a lost node interrupted, nor one before an explicit retry).
    attempts_counted: int = 0
    result: Any = None
    error: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    next_attempt_at: datetime | None = None
    duration_ms: int | None = None
    timeout_s: int | None = None
    expires_at: datetime | None = None
    idempotency_key: str | None = None
    batch_id: str | None = None
    owner: str | None = None  # the principal of the daemon's tokens file that submitted it
    depends_on: list[str] | None = None
    waiting_on: list[str] | None = None
    run_at: datetime | None = None
    cache_info: CacheInfo | None = None
    trace_id: str | None = None
    #: In a cluster: the node of its latest attempt, and the labels it requires.
    node: str | None = None
    node_selector: dict[str, str] | None = None
    #: Seconds from the read until the job is expected to end, while pending,
    #: retrying or running and once its tool has a history. An estimate.
    estimated_duration_s: float | None = None
    #: With `estimated_duration_s`: how long a run of its tool typically takes.
    estimated_run_s: float | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass
class Submitted:
    """The answer to a submit: 202 for a new job, 200 (`existing`) for an idempotent repeat."""
    job_id: str
    status: JobStatus
    position_in_queue: int
    links: dict[str, str]
    existing: bool = False
    #: Seconds until the job is expected to end, once its tool has a history.
    estimated_duration_s: float | None = None


@dataclass
class RunResult:
    """The answer of `run()`: the finished `job` when it ended within the
    wait, else `submitted`, the usual submit answer (the job goes on: follow
    it with `get(job_id, wait=...)` or `wait(job_id)`). Exactly one is set."""
    job: Job | None = None
    submitted: Submitted | None = None

    @property
    def finished(self) -> bool:
        """True when the job ended within the wait (`job` is its final view)."""
        return self.job is not None

    @property
    def job_id(self) -> str:
        if self.job is not None:
            return self.job.job_id
        assert self.submitted is not None
        return self.submitted.job_id

    @property
    def status(self) -> JobStatus:
        """The final status, or the status at the deadline."""
        if self.job is not None:
            return self.job.status
        assert self.submitted is not None
        return self.submitted.status


@dataclass
class JobList:
    jobs: list[Job]
    total_count: int
    has_next: bool
    limit: int
    offset: int
    page: int | None = None
    page_size: int | None = None


@dataclass
class Transition:
    """One entry of a job's history. `from_` is `None` for the creation entry."""
    from_: JobStatus | None = field(metadata={"json": "from"})
    to: JobStatus
    at: datetime
    attempt: int
    reason: str
    node: str | None = None  # in a cluster: where the attempt ran (into or out of running)


@dataclass
class LogLine:
    at: datetime
    level: LogLevel
    message: str
    component: Literal["tool", "engine"]


@dataclass
class LogPage:
    job_id: str
    logs: list[LogLine]
    total: int
    limit: int
    offset: int


@dataclass
class NodeTool:
    name: str
    version: str


@dataclass
class Node:
    """A node of the cluster (GET /v1/nodes, docs/cluster.md): this one first."""
    name: str
    address: str  # "local" for the scheduler node itself
    local: bool
    labels: dict[str, str]
    capacity: int
    running: int
    joined_at: datetime
    last_heartbeat: datetime
    tools: list[NodeTool]


@dataclass
class Tool:
    name: str
    version: str
    description: str
    params: dict[str, dict[str, Any]]
    max_concurrent: int
    retry: RetryPolicy
    timeout_s: float | None = None
    mode: Literal["queued", "immediate"] = "queued"  # immediate: its own pool, a synchronous submit
    paused: bool = False  # GET /v1/tools: paused by an operator or the restart intensity
    paused_reason: str | None = None
    paused_since: datetime | None = None


@dataclass
class BatchSubmitted:
    batch_id: str
    job_ids: list[str]
    links: dict[str, str]


@dataclass
class BatchJob:
    job_id: str
    status: JobStatus


@dataclass
class Batch:
    """The batch view; `batch_status` is computed from the jobs on every read."""
    batch_id: str
    name: str
    batch_status: BatchStatus
    parallel_limit: int
    fail_fast: bool
    created_at: datetime
    total_jobs: int
    counts: dict[str, int]
    jobs: list[BatchJob]
    owner: str | None = None  # the principal of the daemon's tokens file that submitted it


@dataclass
class BatchSummary:
    """A batch in GET /v1/batches: the batch view without its list of jobs."""
    batch_id: str
    name: str
    batch_status: BatchStatus
    parallel_limit: int
    fail_fast: bool
    created_at: datetime
    total_jobs: int
    counts: dict[str, int]


@dataclass
class BatchList:
    """GET /v1/batches: a page of batches, newest first."""
    batches: list[BatchSummary]
    total_count: int
    has_next: bool
    limit: int
    offset: int


@dataclass
class BulkCancelled:
    """POST /v1/jobs/cancel: unfinished jobs that matched, and how many were cancelled."""
    matched: int
    cancelled: int
    dry_run: bool


@dataclass
class BulkPurged:
    """POST /v1/jobs/purge: finished jobs that matched, and how many were deleted."""
    matched: int
    deleted: int
    dry_run: bool


@dataclass
class ToolState:
    """A tool after POST /v1/tools/{name}/pause or /resume."""
    name: str
    paused: bool
    running: int
    queued: int
    retrying: int
    recent_failures: int
    paused_reason: str | None = None
    paused_since: datetime | None = None


@dataclass
class WindowFigures:
    """Jobs that finished within a window (GET /v1/metrics); rates are
    fractions 0-1, durations seconds; None when no job counts toward them."""
    total_jobs: int
    completed: int
    failed: int
    cancelled: int
    timed_out: int
    success_rate: float | None = None
    error_rate: float | None = None
    cache_hit_rate: float | None = None
    average_duration_seconds: float | None = None
    p50_duration_seconds: float | None = None
    p95_duration_seconds: float | None = None


@dataclass
class Metrics(WindowFigures):
    """GET /v1/metrics: the window's figures, all tools and by tool."""
    time_range: str = "24h"
    from_: datetime | None = field(default=None, metadata={"json": "from"})
    to: datetime | None = None
    by_tool: dict[str, WindowFigures] = field(default_factory=dict)


@dataclass
class CacheStats:
    total_cached_results: int
    cache_hit_rate: float
    cache_hits: int
    cache_misses: int
    total_cache_size_mb: float
    oldest_cached_result: datetime | None = None
    newest_cached_result: datetime | None = None


@dataclass
class FileInfo:
    """A stored file: POST /v1/files, GET /v1/files entries. `owner` is set
    with a tokens file, `job_id` for a tool's output file. (A job's result
    lists its output files as plain JSON.)"""
    file_id: str
    name: str
    size: int
    sha256: str
    created_at: datetime
    owner: str | None = None
    job_id: str | None = None


@dataclass
class FileList:
    """GET /v1/files: a page of files, newest first; pass `next_cursor` as
    `cursor` for the next page (None on the last)."""
    files: list[FileInfo]
    limit: int
    has_next: bool
    next_cursor: str | None = None


@dataclass
class Delivery:
    """One webhook delivery of a job's event (GET /v1/jobs/{id}/deliveries).
    `status` is "pending", "delivered" or "failed"; `last_status_code` is 0
    when there was no answer (or no attempt yet)."""
    id: str
    seq: int
    event: str
    url: str
    attempts: int
    status: Literal["pending", "delivered", "failed"]
    last_status_code: int
    last_error: str
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass
class QueueStats:
    pending_jobs: int
    running_jobs: int
    retrying_jobs: int


@dataclass
class Health:
    """`status` is healthy, degraded or unhealthy; without a valid token the
    daemon answers only `ok` or `unhealthy`, and the rest is `None`."""
    status: str
    components: dict[str, Any] | None = None
    queue_stats: QueueStats | None = None


# ---- stream messages ------------------------------------------------------

@dataclass
class Subscribed:
    """The acknowledgement of the first subscription of a watch. A job watch
    carries the job's `snapshot`; the events after `seq` are what it does not
    show yet."""
    seq: int
    job_id: str | None = None
    batch_id: str | None = None
    all: bool = False
    snapshot: Job | None = None
    batch_status: BatchStatus | None = None
    since: int | None = None


@dataclass
class TransitionEvent:
    seq: int
    job_id: str
    from_: JobStatus | None = field(metadata={"json": "from"})
    to: JobStatus
    attempt: int
    at: datetime
    reason: str
    batch_id: str | None = None
    trace_id: str | None = None


@dataclass
class ProgressEvent:
    seq: int
    job_id: str
    progress: Progress
    at: datetime
    batch_id: str | None = None
    trace_id: str | None = None


@dataclass
class LogEvent:
    seq: int
    job_id: str
    level: LogLevel
    message: str
    component: Literal["tool", "engine"]
    at: datetime
    batch_id: str | None = None
    trace_id: str | None = None


Event = Union[TransitionEvent, ProgressEvent, LogEvent]
StreamItem = Union[Subscribed, TransitionEvent, ProgressEvent, LogEvent]

EVENT_TYPES: dict[str, type] = {"transition": TransitionEvent, "progress": ProgressEvent, "log": LogEvent}
