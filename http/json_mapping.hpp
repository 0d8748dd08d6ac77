// JSON <-> engine types for the HTTP and WebSocket API (docs/api.md).
//
// Pure functions: parsing never throws and reports every problem at once,
// each naming its field the way the client wrote it ("priority",
// "retry.max_attempts", "labels.country"); rendering never fails.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "overseer/engine.hpp"
#include "overseer/errc.hpp"
#include "overseer/event.hpp"
#include "overseer/job.hpp"
#include "overseer/tool.hpp"

namespace overseer::http {

/// RFC 3339 UTC with milliseconds: 2026-11-24T05:43:00.123Z.
[[nodiscard]] std::string format_time(time_point t);
/// Accepts RFC 3339 with 'Z' or a numeric offset, with or without a
/// fraction; nullopt if malformed.
[[nodiscard]] std::optional<time_point> parse_time(std::string_view s);

/// Serializes JSON with numbers a person would write: 2 not 2E0, 0.25 not
/// 2.5E-1 (Boost.JSON's default prints every double in exponent form). The
/// one serializer of every HTTP answer and stream message: its text is
/// always valid UTF-8, ill-formed bytes in a string (a client's path or
/// query echoed in an error) becoming U+FFFD.
[[nodiscard]] std::string to_json_text(const boost::json::value& v);

/// The message for a body member no reader takes: `unknown field "x"`, with
/// "; did you mean \"y\"?" when `nearest` (a known name it may be a typo
/// of) is not empty. Every body reader words it so.
[[nodiscard]] std::string unknown_field_text(std::string_view name, std::string_view nearest);

/// The body of POST /v1/jobs (or one element of a batch). Fields: tool
/// (required string), params (object), name (string), priority (integer
/// 0-10), labels (object of strings), timeout_s (positive number),
/// retry {max_attempts, initial_backoff_ms, max_backoff_ms, multiplier,
/// retry_on_timeout}, ttl_hours (integer 1-168), use_cache (bool),
/// depends_on (array of strings), idempotency_key (string, 1-256 chars).
/// Unknown top-level fields are refused with a did-you-mean. Range checks
/// that need the tool (params schema) are left to the engine; type and range
/// checks of the spec's own fields happen here.
/// Adds the errors of `more` whose field `errors` does not name yet (nor a
/// field that contains it): the engine's checks after the reader's, in one
/// answer, each problem once.
void add_unreported(std::vector<field_error>& errors, const std::vector<field_error>& more);
[[nodiscard]] std::vector<field_error> parse_job_spec(const boost::json::value& body, job_spec& out);

/// The body of POST /v1/batches: {name, jobs: [spec...], parallel_limit
/// (integer >= 0), fail_fast (bool)}; errors inside a job are named
/// "jobs[2].priority".
[[nodiscard]] std::vector<field_error> parse_batch_spec(const boost::json::value& body, batch_spec& out);

/// The job view: {job_id, tool, name, status, attempt,
/// priority, labels, params, progress {percent, current_step, total_steps,
/// step_name, estimated_completion?}, result (when completed), error (when
/// set), created_at, started_at, completed_at, next_attempt_at (when set),
/// duration_ms (started_at to completed_at or now, when started),
/// timeout_s, retry, ttl_hours, expires_at (completed_at + ttl, when
/// terminal), idempotency_key (when set), links {self, result, logs,
/// history}}. Absent optionals are omitted.
[[nodiscard]] boost::json::object render_view(const job_view& v);
[[nodiscard]] boost::json::object render_progress(const overseer::progress& p);
[[nodiscard]] boost::json::object render_transition(const transition& t);  ///< {from, to, at, attempt, reason}
[[nodiscard]] boost::json::object render_log(const log_line& l);  ///< {at, level, message, component}
/// A stream message: {"type":"transition","seq",...,"job_id","from","to",
/// "attempt","at","reason"} / {"type":"progress","seq","job_id","progress":{...},"at"} /
/// {"type":"log","seq","job_id","level","message","at"}.
[[nodiscard]] boost::json::object render_event(const event& e);
/// {name, version, description, params, timeout_s (null if none),
/// max_concurrent, retry {max_attempts, initial_backoff_ms, max_backoff_ms,
/// multiplier, retry_on_timeout}}.
[[nodiscard]] boost::json::object render_tool(const tool_definition& d);

}  // namespace overseer::http
