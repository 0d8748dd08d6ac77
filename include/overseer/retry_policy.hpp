// Retry policy of a job: how many attempts, and how long to wait between them.
//
// The delay before attempt n+1 (n >= 1 failed attempts) is drawn with "full
// jitter": uniformly from [0, min(max_backoff, initial_backoff * multiplier^(n-1))].
// Jitter spreads the retries of many jobs that failed together (AWS
// Architecture Blog, "Exponential Backoff And Jitter"). Plain value type.
//
//   overseer::retry_policy p{.max_attempts = 3, .initial_backoff = 500ms};
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "overseer/errc.hpp"

namespace overseer {

struct retry_policy {
  /// Attempts in all, the first included. 1 means no retry. Default 1.
  int max_attempts = 1;
  /// Upper bound of the first delay. Default 1 s.
  std::chrono::milliseconds initial_backoff{1000};
  /// Upper bound of any delay. Default 60 s.
  std::chrono::milliseconds max_backoff{60000};
  /// Growth of the bound per failed attempt. Default 2.
  double multiplier = 2.0;
  /// Whether an attempt that timed out may be retried. Default false.
  bool retry_on_timeout = false;

  friend bool operator==(const retry_policy&, const retry_policy&) = default;
};

/// The bounds of a valid retry policy, a job's or a tool's default alike. A
/// backoff beyond a week would outlive any job's retention (ttl_hours is at
/// most 168), and an unbounded one overflows the clock.
inline constexpr int max_retry_attempts = 100;
inline constexpr std::int64_t max_retry_backoff_ms = 7LL * 24 * 3600 * 1000;
inline constexpr double max_retry_multiplier = 100;

/// The one check of a retry policy: every field outside its bounds, named
/// "retry.max_attempts", "retry.initial_backoff_ms", "retry.max_backoff_ms"
/// (also when below initial_backoff_ms), "retry.multiplier" (NaN included).
/// Empty when the policy is valid.
[[nodiscard]] std::vector<field_error> check_retry_policy(const retry_policy& p);

}  // namespace overseer
