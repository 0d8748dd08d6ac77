// W3C Trace Context (https://www.w3.org/TR/trace-context/): the trace id a
// job carries, read from a `traceparent` header or a spec's `trace_id`, and
// the `traceparent` an exec tool receives in its environment.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace overseer::tools {

/// 32 lowercase hex digits, not all zero (W3C's trace-id).
[[nodiscard]] bool valid_trace_id(std::string_view id) noexcept;

/// The trace id of a `traceparent` header ("00-<trace-id>-<parent-id>-<flags>"),
/// or why it is not one. Version 00 must be exactly that; a higher version
/// may carry more fields after the flags (the spec's forward compatibility);
/// version ff is invalid.
struct traceparent_reading {
  std::optional<std::string> trace_id{};
  std::string error{};
};
[[nodiscard]] traceparent_reading parse_traceparent(std::string_view header);

/// The `traceparent` a job's tool runs under: version 00, the job's trace id,
/// a span id derived from the job id and attempt (stable, never all zero),
/// sampled.
[[nodiscard]] std::string traceparent_for(std::string_view trace_id, std::string_view job_id, int attempt);

}  // namespace overseer::tools
