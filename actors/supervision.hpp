// Supervision policy as data: what happens after an attempt ends, how long
// to back off, and when a tool has failed too often to keep restarting.
//
// Pure functions and small value types, so the scheduler's decisions can be
// tested without actors or clocks.
#pragma once

#include <chrono>
#include <deque>
#include <random>
#include <string>

#include "overseer/engine.hpp"
#include "overseer/job.hpp"
#include "overseer/retry_policy.hpp"

namespace overseer::actors::supervision {

/// How an attempt ended, as the scheduler saw it.
/// `failed`: the tool returned a failure; `crashed`: it broke (an
/// exception, a signal, an attempt that ended without a result).
enum class attempt_outcome : std::uint8_t { completed, failed, crashed, timed_out };

/// Whether `outcome` counts toward the restart intensity under `counts`.
[[nodiscard]] bool counts_toward_intensity(attempt_outcome outcome, const intensity_counts& counts);

/// Upper bound of the delay after `failed_attempts` failures (>= 1):
/// min(max_backoff, initial_backoff * multiplier^(failed_attempts - 1)).
[[nodiscard]] std::chrono::milliseconds backoff_bound(const retry_policy& p, int failed_attempts);

/// The delay itself: uniform in [0, backoff_bound] ("full jitter").
[[nodiscard]] std::chrono::milliseconds backoff_delay(const retry_policy& p, int failed_attempts,
                                                      std::mt19937_64& rng);

struct decision {
  job_status next;  ///< completed, failed, timed_out or retrying
  std::chrono::milliseconds delay{0};  ///< when retrying
};

/// What follows attempt number `attempt` (1-based) ending with `outcome`.
[[nodiscard]] decision decide(const retry_policy& p, int attempt, attempt_outcome outcome,
                              std::mt19937_64& rng);

/// OTP-style restart intensity: more than `max_failures` failures within
/// `window` trips it.
class restart_intensity {
public:
  restart_intensity(int max_failures, std::chrono::milliseconds window)
    : max_failures_(max_failures), window_(window) {}
  /// Records a failure at `now`; returns true if the limit is now exceeded.
  bool record_failure(std::chrono::steady_clock::time_point now);
  [[nodiscard]] int recent(std::chrono::steady_clock::time_point now);
  void reset() { failures_.clear(); }

private:
  void expire(std::chrono::steady_clock::time_point now);
  int max_failures_;
  std::chrono::milliseconds window_;
  std::deque<std::chrono::steady_clock::time_point> failures_;
};

}  // namespace overseer::actors::supervision
