// Reading a retry object from JSON, the one reader for a job spec's "retry"
// (http/json_mapping.cpp) and a tool's in the tools file (tools_file.cpp).
// Each document words a problem of shape its own way (a job spec says
// "expected integer, found boolean", the tools file "must be an integer,
// found true"): the caller passes its wording; what is read, and the
// bounds (check_retry_policy), are the same.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "overseer/retry_policy.hpp"

namespace overseer::tools {

inline constexpr std::array<std::string_view, 5> retry_keys = {"max_attempts", "initial_backoff_ms", "max_backoff_ms",
                                                              "multiplier", "retry_on_timeout"};

/// How the calling document words a problem of shape.
struct json_wording {
  /// `v` is not of the `expected` kind: "integer", "number" or "boolean".
  std::function<std::string(const boost::json::value& v, std::string_view expected)> wrong_type;
  /// `key` is not a field; `nearest` is a known one it may be a typo of, or empty.
  std::function<std::string(std::string_view key, std::string_view nearest)> unknown;
};

/// Reads {max_attempts, initial_backoff_ms, max_backoff_ms, multiplier,
/// retry_on_timeout}, each optional (the rest keep retry_policy's defaults):
/// integers that fit in 64 bits (max_attempts in an int), a finite
/// multiplier; then check_retry_policy's bounds. Problems are appended as
/// "retry.KEY". A field that could not be read, or is out of bounds, keeps
/// its default: what is returned is always within bounds.
[[nodiscard]] retry_policy read_retry_policy(const boost::json::object& o, const json_wording& wording,
                                             std::vector<field_error>& errors);

}  // namespace overseer::tools
