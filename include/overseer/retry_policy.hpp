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

}  // namespace overseer
