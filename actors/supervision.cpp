#include "actors/supervision.hpp"

#include <algorithm>
#include <cmath>

namespace overseer::actors::supervision {

std::chrono::milliseconds backoff_bound(const retry_policy& p, int failed_attempts) {
  // 0 * pow(...) is NaN once pow overflows; a zero start stays zero.
  if (p.initial_backoff.count() <= 0) return std::chrono::milliseconds{0};
  const double exponent = std::max(0, failed_attempts - 1);
  const double raw = static_cast<double>(p.initial_backoff.count()) * std::pow(p.multiplier, exponent);
  const double cap = static_cast<double>(p.max_backoff.count());
  // pow overflows to inf for long retry chains; min() keeps the cap exact.
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::min(raw, cap))};
}

std::chrono::milliseconds backoff_delay(const retry_policy& p, int failed_attempts,
                                        std::mt19937_64& rng) {
  const auto bound = backoff_bound(p, failed_attempts).count();
  if (bound <= 0) return std::chrono::milliseconds{0};
  std::uniform_int_distribution<std::int64_t> dist{0, bound};
  return std::chrono::milliseconds{dist(rng)};
}

decision decide(const retry_policy& p, int attempt, attempt_outcome outcome, std::mt19937_64& rng) {
  switch (outcome) {
    case attempt_outcome::completed:
      return {job_status::completed};
    case attempt_outcome::failed:
    case attempt_outcome::crashed:
      if (attempt < p.max_attempts) return {job_status::retrying, backoff_delay(p, attempt, rng)};
      return {job_status::failed};
    case attempt_outcome::timed_out:
      if (p.retry_on_timeout && attempt < p.max_attempts)
        return {job_status::retrying, backoff_delay(p, attempt, rng)};
      return {job_status::timed_out};
  }
  return {job_status::failed};
}

bool counts_toward_intensity(attempt_outcome outcome, const intensity_counts& counts) {
  switch (outcome) {
    case attempt_outcome::completed: return false;
    case attempt_outcome::failed: return counts.failures;
    case attempt_outcome::crashed: return counts.crashes;
    case attempt_outcome::timed_out: return counts.timeouts;
  }
  return false;
}

bool restart_intensity::record_failure(std::chrono::steady_clock::time_point now) {
  expire(now);
  failures_.push_back(now);
  return static_cast<int>(failures_.size()) > max_failures_;
}

int restart_intensity::recent(std::chrono::steady_clock::time_point now) {
  expire(now);
  return static_cast<int>(failures_.size());
}

void restart_intensity::expire(std::chrono::steady_clock::time_point now) {
  while (!failures_.empty() && now - failures_.front() > window_) failures_.pop_front();
}

}  // namespace overseer::actors::supervision
