"""Exceptions. Every failure a client method reports is an `OverseerError`:

- `ProblemError` (and a subclass per common status) when the daemon answered
  with an RFC 9457 problem document; `.errors` lists every bad field;
- `TransportError` when the daemon could not be reached or the connection broke;
- `StreamError` when the stream refused a subscription (an unknown job, a
  `since` older than the retained events);
- `WaitTimeout` when `wait()` ran out of time.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping


class OverseerError(Exception):
    """Base of every error this package raises."""


class TransportError(OverseerError):
    """The daemon could not be reached, the connection broke before an answer,
    or the answer was not a daemon's (a 2xx that is not its JSON)."""


@dataclass(frozen=True)
class FieldError:
    """One bad field or query parameter, named as the client wrote it
    (`priority`, `params.seconds`, `jobs[2].tool`)."""
    field: str
    message: str


class ProblemError(OverseerError):
    """An error answer. `problem` is the whole document as sent, so extension
    members (`job_status` of a 409 from `/result`) are there too."""

    def __init__(self, status: int, problem: Mapping[str, Any], retry_after: float | None = None):
        self.status = status
        self.problem = dict(problem)
        self.type: str = str(problem.get("type", "about:blank"))
        self.title: str = str(problem.get("title", ""))
        self.detail: str = str(problem.get("detail", ""))
        self.errors: list[FieldError] = [
            FieldError(str(e.get("field", "")), str(e.get("message", "")))
            for e in problem.get("errors", []) if isinstance(e, Mapping)]
        self.retry_after = retry_after
        fields = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(f"{status} {self.title}: {self.detail}" + (f" ({fields})" if fields else ""))

    def field_messages(self) -> dict[str, str]:
        """`{field: message}` of the field errors."""
        return {e.field: e.message for e in self.errors}


class BadRequestError(ProblemError):
    """400: a bad spec, parameter or query; `errors` names each."""


class UnauthorizedError(ProblemError):
    """401: tokens are configured and none of them was sent."""


class ForbiddenError(ProblemError):
    """403: the token's principal may not do this (a reader changes nothing;
    a user neither pauses tools nor reads every principal's figures)."""


class NotFoundError(ProblemError):
    """404: an unknown job, batch or route (for a user, also another
    principal's job or batch)."""


class ConflictError(ProblemError):
    """409: the job's status does not allow the operation, or an idempotency
    key was used with a different spec."""

    @property
    def job_status(self) -> str | None:
        """Where the job stands, for a 409 from `result()`."""
        value = self.problem.get("job_status")
        return value if isinstance(value, str) else None


class PayloadTooLargeError(ProblemError):
    """413: an upload over the daemon's `--max-file-size` (or a body over
    `--body-limit`); nothing was kept."""


class TooManyRequestsError(ProblemError):
    """429: a quota of the token's principal (`max_queued`,
    `submits_per_second`, named in `errors`) is reached; nothing was created.
    `retry_after` holds the seconds the daemon asked to wait."""


class UnavailableError(ProblemError):
    """503: the engine is stopping, the store failed, or a connection cap was hit.
    `retry_after` holds the seconds the daemon asked to wait."""


_BY_STATUS: dict[int, type[ProblemError]] = {
    400: BadRequestError, 401: UnauthorizedError, 403: ForbiddenError, 404: NotFoundError,
    409: ConflictError, 413: PayloadTooLargeError, 429: TooManyRequestsError, 503: UnavailableError,
}


def problem_error(status: int, reason: str, body: bytes, retry_after: str | None) -> ProblemError:
    """The exception for an error answer; a body that is not a problem
    document (a proxy's HTML page) becomes the `detail` of one."""
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        doc = {"title": reason, "status": status,
               "detail": body.decode("utf-8", "replace")[:500] or reason}
    try:
        after = float(retry_after) if retry_after is not None else None
    except ValueError:
        after = None
    return _BY_STATUS.get(status, ProblemError)(status, doc, after)


class StreamError(OverseerError):
    """The stream answered a subscription with an `error` message."""


class WaitTimeout(OverseerError, TimeoutError):
    """`wait()` reached its timeout before the job finished."""
