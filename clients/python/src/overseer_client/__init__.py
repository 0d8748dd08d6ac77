"""Python client of Overseer's HTTP and WebSocket API (docs/api.md).

    from overseer_client import Client, JobSpec
    with Client("http://127.0.0.1:8080", token=None) as c:
        job = c.submit(JobSpec(tool="sleep", params={"seconds": 2, "steps": 4}))
        print(c.wait(job.job_id, timeout=60).status)        # completed

`AsyncClient` has the same methods as coroutines. Standard library only.
"""
from .client import AsyncClient, Client, Watch
from .errors import (BadRequestError, ConflictError, FieldError, ForbiddenError, NotFoundError,
                     OverseerError, PayloadTooLargeError, ProblemError, StreamError, TooManyRequestsError,
                     TransportError, UnauthorizedError, UnavailableError, WaitTimeout)
from .types import (TERMINAL, Batch, BatchJob, BatchList, BatchSummary, BulkCancelled, BulkPurged,
                    BatchSpec, BatchSubmitted, CacheInfo, CacheStats, Delivery, FileInfo, FileList,
                    Event, Health, Job, JobList, JobSpec, LogEvent, LogLine, LogPage, Metrics, Node, NodeTool, Notify, Progress,
                    ProgressEvent, QueueStats, RetryPolicy, RunResult, StreamItem, Submitted, Subscribed, Tool,
                    ToolState, Transition, TransitionEvent, WindowFigures)

__version__ = "0.1.0"

__all__ = [
    "AsyncClient", "Client", "Watch",
    "BadRequestError", "ConflictError", "FieldError", "ForbiddenError", "NotFoundError",
    "OverseerError", "PayloadTooLargeError", "ProblemError", "StreamError", "TooManyRequestsError", "TransportError",
    "UnauthorizedError", "UnavailableError",
    "WaitTimeout",
    "TERMINAL", "Batch", "BatchJob", "BatchList", "BatchSummary", "BulkCancelled", "BulkPurged", "BatchSpec", "BatchSubmitted", "CacheInfo", "CacheStats",
    "Delivery", "FileInfo", "FileList", "Notify",
    "Event", "Health", "Job", "JobList", "JobSpec", "LogEvent", "LogLine", "LogPage", "Metrics", "Node", "NodeTool",
    "Progress",
    "ProgressEvent", "QueueStats", "RetryPolicy", "RunResult", "StreamItem", "Submitted", "Subscribed", "Tool",
    "ToolState", "Transition", "TransitionEvent", "WindowFigures",
]
