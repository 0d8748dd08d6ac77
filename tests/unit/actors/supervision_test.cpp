#include "actors/supervision.hpp"

#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>

#include <catch2/catch.hpp>

using namespace overseer;
using namespace overseer::actors::supervision;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

retry_policy policy(int max_attempts, milliseconds initial, milliseconds max, double multiplier,
                    bool retry_on_timeout = false) {
  return retry_policy{.max_attempts = max_attempts,
                      .initial_backoff = initial,
                      .max_backoff = max,
                      .multiplier = multiplier,
                      .retry_on_timeout = retry_on_timeout};
}

std::string status_name(job_status s) { return std::string(to_string(s)); }

}  // namespace

TEST_CASE("the backoff bound grows by the multiplier and stops at max_backoff", "[supervision]") {
  const auto p = policy(100, 100ms, 10s, 2.0);
  auto [failed_attempts, bound_ms] = GENERATE(table<int, std::int64_t>({
    {1, 100},
    {2, 200},
    {3, 400},
    {4, 800},
    {5, 1600},
    {6, 3200},
    {7, 6400},
    {8, 10000},  // 12800 capped
    {9, 10000},
    {30, 10000},
    {64, 10000},
    {1000, 10000},
    {10000, 10000},  // pow() overflows to inf: still exactly the cap
    {std::numeric_limits<int>::max(), 10000},
  }));
  CAPTURE(failed_attempts);
  CHECK(backoff_bound(p, failed_attempts) == milliseconds{bound_ms});
}

TEST_CASE("the backoff bound follows a fractional multiplier", "[supervision]") {
  const auto p = policy(10, 100ms, 1s, 1.5);
  CHECK(backoff_bound(p, 1) == 100ms);
  CHECK(backoff_bound(p, 2) == 150ms);
  CHECK(backoff_bound(p, 3) == 225ms);
  CHECK(backoff_bound(p, 7) == 1000ms);  // 1139 capped
}

TEST_CASE("a multiplier of one keeps the bound at initial_backoff", "[supervision]") {
  const auto p = policy(10, 250ms, 60s, 1.0);
  const int failed_attempts = GENERATE(1, 2, 5, 10000);
  CAPTURE(failed_attempts);
  CHECK(backoff_bound(p, failed_attempts) == 250ms);
}

TEST_CASE("an attempt count below one is treated as the first failure", "[supervision]") {
  const auto p = policy(10, 100ms, 10s, 2.0);
  CHECK(backoff_bound(p, 0) == 100ms);
  CHECK(backoff_bound(p, -5) == 100ms);
}

TEST_CASE("a bound never exceeds max_backoff even when initial_backoff equals it",
          "[supervision]") {
  const auto p = policy(10, 5s, 5s, 3.0);
  const int failed_attempts = GENERATE(1, 2, 3, 10000);
  CAPTURE(failed_attempts);
  CHECK(backoff_bound(p, failed_attempts) == 5s);
}

TEST_CASE("a zero initial backoff gives a zero bound for short retry chains", "[supervision]") {
  const auto p = policy(100, 0ms, 60s, 2.0);
  const int failed_attempts = GENERATE(1, 2, 10, 100, 1000);
  CAPTURE(failed_attempts);
  CHECK(backoff_bound(p, failed_attempts) == 0ms);
}

// Known bug (actors/supervision.cpp:10-13): with initial_backoff == 0 and
// enough failed attempts for pow() to overflow (multiplier^(n-1) == inf, from
// n = 1025 with multiplier 2), raw = 0 * inf = NaN; std::min(NaN, cap)
// returns NaN and the cast to int64 is undefined (INT64_MIN on x86-64).
// backoff_delay() hides it (bound <= 0 gives 0), but the bound itself is wrong.
TEST_CASE("a zero initial backoff gives a zero bound however long the retry chain",
          "[supervision]") {
  const auto p = policy(100000, 0ms, 60s, 2.0);
  const int failed_attempts = GENERATE(1025, 10000, std::numeric_limits<int>::max());
  CAPTURE(failed_attempts);
  const auto bound = backoff_bound(p, failed_attempts);
  CHECK(bound >= 0ms);
  CHECK(bound == 0ms);
}

TEST_CASE("a zero initial backoff always gives a zero delay", "[supervision]") {
  const auto p = policy(100000, 0ms, 60s, 2.0);
  std::mt19937_64 rng{7};
  const int failed_attempts = GENERATE(1, 2, 10, 10000);
  CAPTURE(failed_attempts);
  for (int i = 0; i < 100; ++i) CHECK(backoff_delay(p, failed_attempts, rng) == 0ms);
}

TEST_CASE("a backoff delay is always within zero and the bound, and jitters", "[supervision]") {
  const auto p = policy(100, 100ms, 10s, 2.0);
  const std::uint64_t seed = GENERATE(1u, 42u, 20240601u);
  const int failed_attempts = GENERATE(1, 3, 8, 10000);
  CAPTURE(seed, failed_attempts);
  std::mt19937_64 rng{seed};
  const auto bound = backoff_bound(p, failed_attempts);
  std::set<std::int64_t> seen;
  bool low_half = false, high_half = false;
  for (int i = 0; i < 5000; ++i) {
    const auto d = backoff_delay(p, failed_attempts, rng);
    REQUIRE(d >= 0ms);
    REQUIRE(d <= bound);
    seen.insert(d.count());
    (d * 2 <= bound ? low_half : high_half) = true;
  }
  // Full jitter: spread over the range, not a constant.
  CHECK(seen.size() > 50);
  CHECK(low_half);
  CHECK(high_half);
}

TEST_CASE("the same seed draws the same delays", "[supervision]") {
  const auto p = policy(10, 100ms, 10s, 2.0);
  std::mt19937_64 a{99}, b{99};
  for (int i = 0; i < 100; ++i) CHECK(backoff_delay(p, 4, a) == backoff_delay(p, 4, b));
}

TEST_CASE("a completed attempt completes the job whatever the policy", "[supervision]") {
  const int max_attempts = GENERATE(1, 3);
  const bool retry_on_timeout = GENERATE(false, true);
  const auto p = policy(max_attempts, 100ms, 10s, 2.0, retry_on_timeout);
  std::mt19937_64 rng{1};
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    CAPTURE(max_attempts, retry_on_timeout, attempt);
    const auto d = decide(p, attempt, attempt_outcome::completed, rng);
    CHECK(d.next == job_status::completed);
    CHECK(d.delay == 0ms);
  }
}

TEST_CASE("a failed or crashed attempt retries while attempts are left, then fails", "[supervision]") {
  const auto p = policy(4, 100ms, 10s, 2.0);
  const std::uint64_t seed = GENERATE(1u, 2u, 3u, 4u, 5u);
  const auto outcome = GENERATE(attempt_outcome::failed, attempt_outcome::crashed);
  std::mt19937_64 rng{seed};
  for (int attempt = 1; attempt <= 3; ++attempt) {
    CAPTURE(seed, attempt);
    const auto d = decide(p, attempt, outcome, rng);
    CHECK(status_name(d.next) == "retrying");
    CHECK(d.delay >= 0ms);
    CHECK(d.delay <= backoff_bound(p, attempt));
  }
  const auto last = decide(p, 4, outcome, rng);
  CHECK(status_name(last.next) == "failed");
  CHECK(last.delay == 0ms);
  // Past the last attempt (a stale count) still never retries.
  CHECK(status_name(decide(p, 5, attempt_outcome::failed, rng).next) == "failed");
}

TEST_CASE("retry delays jitter across decisions", "[supervision]") {
  const auto p = policy(3, 1000ms, 10s, 2.0);
  std::mt19937_64 rng{12345};
  std::set<std::int64_t> delays;
  for (int i = 0; i < 200; ++i) {
    const auto d = decide(p, 1, attempt_outcome::failed, rng);
    REQUIRE(d.next == job_status::retrying);
    REQUIRE(d.delay <= 1000ms);
    delays.insert(d.delay.count());
  }
  CHECK(delays.size() > 10);
}

TEST_CASE("a timed out attempt ends the job unless the policy retries timeouts",
          "[supervision]") {
  std::mt19937_64 rng{8};
  SECTION("timeouts not retryable") {
    const auto p = policy(3, 100ms, 10s, 2.0, false);
    for (int attempt = 1; attempt <= 3; ++attempt) {
      CAPTURE(attempt);
      const auto d = decide(p, attempt, attempt_outcome::timed_out, rng);
      CHECK(status_name(d.next) == "timed_out");
      CHECK(d.delay == 0ms);
    }
  }
  SECTION("timeouts retryable: retrying while attempts are left") {
    const auto p = policy(3, 100ms, 10s, 2.0, true);
    for (int attempt = 1; attempt <= 2; ++attempt) {
      CAPTURE(attempt);
      const auto d = decide(p, attempt, attempt_outcome::timed_out, rng);
      CHECK(status_name(d.next) == "retrying");
      CHECK(d.delay >= 0ms);
      CHECK(d.delay <= backoff_bound(p, attempt));
    }
    const auto last = decide(p, 3, attempt_outcome::timed_out, rng);
    CHECK(status_name(last.next) == "timed_out");
    CHECK(last.delay == 0ms);
  }
}

TEST_CASE("max_attempts of one never retries", "[supervision]") {
  const bool retry_on_timeout = GENERATE(false, true);
  const auto p = policy(1, 100ms, 10s, 2.0, retry_on_timeout);
  std::mt19937_64 rng{3};
  CAPTURE(retry_on_timeout);
  CHECK(status_name(decide(p, 1, attempt_outcome::failed, rng).next) == "failed");
  CHECK(status_name(decide(p, 1, attempt_outcome::timed_out, rng).next) == "timed_out");
  CHECK(status_name(decide(p, 1, attempt_outcome::completed, rng).next) == "completed");
}

TEST_CASE("the default policy never retries", "[supervision]") {
  const retry_policy p{};
  std::mt19937_64 rng{3};
  CHECK(status_name(decide(p, 1, attempt_outcome::failed, rng).next) == "failed");
  CHECK(status_name(decide(p, 1, attempt_outcome::timed_out, rng).next) == "timed_out");
}

TEST_CASE("restart intensity trips on the failure after max_failures within the window",
          "[supervision]") {
  const int max_failures = GENERATE(1, 3, 5);
  CAPTURE(max_failures);
  restart_intensity ri{max_failures, 10s};
  const std::chrono::steady_clock::time_point t0{1h};
  for (int i = 0; i < max_failures; ++i) {
    CAPTURE(i);
    CHECK_FALSE(ri.record_failure(t0 + i * 1s));
  }
  CHECK(ri.recent(t0 + 5s) == max_failures);
  CHECK(ri.record_failure(t0 + 9s));
  // Still over the limit while the failures stay in the window.
  CHECK(ri.record_failure(t0 + 9500ms));
}

TEST_CASE("restart intensity forgets failures older than the window", "[supervision]") {
  restart_intensity ri{2, 10s};
  const std::chrono::steady_clock::time_point t0{1h};
  CHECK_FALSE(ri.record_failure(t0));
  CHECK_FALSE(ri.record_failure(t0 + 5s));
  CHECK(ri.recent(t0 + 6s) == 2);
  // t0 is now 12 s old: expired. t0 + 5s (7 s old) and this one remain.
  CHECK_FALSE(ri.record_failure(t0 + 12s));
  CHECK(ri.recent(t0 + 12s) == 2);
  // t0 + 5s is now 11 s old.
  CHECK(ri.recent(t0 + 16s) == 1);
  CHECK(ri.recent(t0 + 23s) == 0);
  // Failures spread wider than the window never trip it.
  for (int i = 0; i < 100; ++i) {
    CAPTURE(i);
    CHECK_FALSE(ri.record_failure(t0 + 30s + i * 6s));
  }
}

TEST_CASE("restart intensity trips again once expired failures are replaced by new ones",
          "[supervision]") {
  restart_intensity ri{2, 1s};
  const std::chrono::steady_clock::time_point t0{1h};
  CHECK_FALSE(ri.record_failure(t0));
  CHECK_FALSE(ri.record_failure(t0 + 100ms));
  CHECK(ri.record_failure(t0 + 200ms));
  CHECK(ri.recent(t0 + 5s) == 0);
  CHECK_FALSE(ri.record_failure(t0 + 5s));
  CHECK_FALSE(ri.record_failure(t0 + 5100ms));
  CHECK(ri.record_failure(t0 + 5200ms));
}

TEST_CASE("resetting restart intensity clears its failures", "[supervision]") {
  restart_intensity ri{2, 60s};
  const std::chrono::steady_clock::time_point t0{1h};
  CHECK_FALSE(ri.record_failure(t0));
  CHECK_FALSE(ri.record_failure(t0 + 1s));
  CHECK(ri.record_failure(t0 + 2s));
  ri.reset();
  CHECK(ri.recent(t0 + 2s) == 0);
  CHECK_FALSE(ri.record_failure(t0 + 3s));
  CHECK_FALSE(ri.record_failure(t0 + 4s));
  CHECK(ri.record_failure(t0 + 5s));
}

TEST_CASE("by default crashes and timeouts count toward restart intensity, returned failures do not",
          "[supervision]") {
  const intensity_counts defaults;
  CHECK(counts_toward_intensity(attempt_outcome::crashed, defaults));
  CHECK(counts_toward_intensity(attempt_outcome::timed_out, defaults));
  CHECK_FALSE(counts_toward_intensity(attempt_outcome::failed, defaults));
  CHECK_FALSE(counts_toward_intensity(attempt_outcome::completed, defaults));
  const intensity_counts everything{.crashes = true, .timeouts = true, .failures = true};
  CHECK(counts_toward_intensity(attempt_outcome::failed, everything));
  CHECK_FALSE(counts_toward_intensity(attempt_outcome::completed, everything));
  const intensity_counts nothing{.crashes = false, .timeouts = false, .failures = false};
  for (auto o : {attempt_outcome::completed, attempt_outcome::failed, attempt_outcome::crashed,
                 attempt_outcome::timed_out})
    CHECK_FALSE(counts_toward_intensity(o, nothing));
}
