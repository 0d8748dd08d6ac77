/**
 * Every failure of a request is an `OverseerError`: `ProblemError` (and a
 * subclass per common status) when the daemon answered with an RFC 9457
 * problem document, `TransportError` when it could not be reached or its
 * answer broke off, stalled or was not JSON, `StreamError` when the stream
 * refused a subscription, and `WaitTimeout` when `wait()` ran out of time.
 * A bad argument, which is never sent, rejects with a TypeError or RangeError.
 */

export class OverseerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The daemon could not be reached, the connection broke or went silent before
 * the whole answer came, or a successful answer was not the daemon's JSON.
 * `cause` is the underlying error (fetch's, a JSON SyntaxError), when there is one.
 */
export class TransportError extends OverseerError {}

/** One bad field or query parameter, named as the client wrote it (`jobs[2].priority`). */
export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** An error answer; `problem` is the whole document, extension members included. */
export class ProblemError extends OverseerError {
  readonly status: number;
  readonly problem: Problem;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[];
  /** Seconds the daemon asked to wait (429, 503): `Retry-After`, an HTTP date turned into the seconds until it. */
  readonly retryAfter: number | undefined;

  constructor(status: number, problem: Problem, retryAfter?: number) {
    const errors = Array.isArray(problem.errors)
      ? problem.errors.map((e) => ({ field: String(e.field ?? ""), message: String(e.message ?? "") }))
      : [];
    const fields = errors.map((e) => `${e.field}: ${e.message}`).join("; ");
    super(`${status} ${problem.title ?? ""}: ${problem.detail ?? ""}${fields ? ` (${fields})` : ""}`);
    this.status = status;
    this.problem = problem;
    this.type = problem.type ?? "about:blank";
    this.title = problem.title ?? "";
    this.detail = problem.detail ?? "";
    this.errors = errors;
    this.retryAfter = retryAfter;
  }

  /** `{field: message}` of the field errors. */
  fieldMessages(): Record<string, string> {
    return Object.fromEntries(this.errors.map((e) => [e.field, e.message]));
  }
}

/** 400: a bad spec, parameter or query; `errors` names each. */
export class BadRequestError extends ProblemError {}
/** 401: tokens are configured and none of them was sent. */
export class UnauthorizedError extends ProblemError {}
/** 403: the token's principal may not do this (a reader changes nothing; a user neither pauses tools nor reads every principal's figures). */
export class ForbiddenError extends ProblemError {}
/** 404: an unknown job, batch or route (for a user, also another principal's job or batch). */
export class NotFoundError extends ProblemError {}
/** 409: the job's status forbids the operation, or an idempotency key was reused with another spec. */
export class ConflictError extends ProblemError {
  /** Where the job stands, for a 409 from `result()`. */
  get jobStatus(): string | undefined {
    const s = this.problem["job_status"];
    return typeof s === "string" ? s : undefined;
  }
}
/** 413: an upload over the daemon's `--max-file-size` (or a body over `--body-limit`); nothing was kept. */
export class PayloadTooLargeError extends ProblemError {}
/** 429: a quota of the token's principal (`max_queued`, `submits_per_second`) is reached; nothing was created; see `retryAfter`. */
export class TooManyRequestsError extends ProblemError {}

/** 503: the engine is stopping, the store failed, or a connection cap was hit. */
export class UnavailableError extends ProblemError {}

const byStatus: Record<number, typeof ProblemError> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  429: TooManyRequestsError,
  503: UnavailableError,
};

/** The exception for an error answer; a body that is not a problem document becomes its `detail`. */
export async function problemError(response: Response): Promise<ProblemError> {
  const text = await response.text().catch(() => "");
  let problem: Problem;
  try {
    const parsed: unknown = JSON.parse(text);
    problem = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Problem)
      : { status: response.status, title: response.statusText, detail: text.slice(0, 500) };
  } catch {
    problem = { status: response.status, title: response.statusText, detail: text.slice(0, 500) || response.statusText };
  }
  const cls = byStatus[response.status] ?? ProblemError;
  return new cls(response.status, problem, retryAfterSeconds(response.headers.get("Retry-After")));
}

/** `Retry-After` in seconds: delay-seconds as given, an HTTP date as the seconds until it (0 once past). */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // An IMF-fixdate (or the obsolete forms Date.parse reads); it names a weekday and a month.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The stream answered a subscription with an `error` message. */
export class StreamError extends OverseerError {}

/** `wait()` reached its timeout before the job finished. */
export class WaitTimeout extends OverseerError {}
