// Estimates from synthetic histories (actors/estimates.hpp).
#include <catch2/catch.hpp>

#include "actors/estimates.hpp"
#include "metrics/instruments.hpp"

using namespace overseer;
using namespace overseer::actors;
using persistence::rollup_cell;

namespace {

/// A window of runs taking `seconds` each, as the rollups count them.
rollup_cell history(std::initializer_list<double> seconds) {
  rollup_cell c;
  const auto bounds = metrics::duration_buckets();
  for (double s : seconds) {
    ++c.completed;
    ++c.timed;
    c.duration_micros += static_cast<std::uint64_t>(s * 1e6);
    const auto b = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), s) - bounds.begin());
    ++c.histogram[std::min(b, rollup_cell::buckets - 1)];
  }
  return c;
}

}  // namespace

TEST_CASE("a tool's typical run time is its median, exact for a narrow spread", "[estimates]") {
  // Ten runs of about 2 s: the mean, since the median's bucket holds it.
  auto steady = typical_run_s(history({1.9, 2.0, 2.0, 2.1, 2.0, 1.95, 2.05, 2.0, 2.0, 2.0}));
  REQUIRE(steady);
  CHECK(*steady == Approx(2.0).epsilon(0.01));
  // Mostly fast with a few very slow ones: the median, not the mean the
  // outliers drag up (the mean here is about 45 s).
  auto skewed = typical_run_s(history({1, 1, 1, 1, 1, 1, 1, 300, 300, 300}));
  REQUIRE(skewed);
  CHECK(*skewed <= 2.5);
  // Too few runs say nothing.
  CHECK_FALSE(typical_run_s(history({5, 5})));
  CHECK_FALSE(typical_run_s(history({})));
}

TEST_CASE("a queued job's estimate counts the waves ahead of it at its concurrency", "[estimates]") {
  // 2 s a run, 4 slots: 0-3 ahead start at once, 4-7 in the second wave.
  CHECK(*estimated_duration_s(job_status::pending, 2.0, 0, 4, 0) == Approx(2.0));
  CHECK(*estimated_duration_s(job_status::pending, 2.0, 3, 4, 0) == Approx(2.0));
  CHECK(*estimated_duration_s(job_status::pending, 2.0, 4, 4, 0) == Approx(4.0));
  CHECK(*estimated_duration_s(job_status::pending, 2.0, 10, 1, 0) == Approx(22.0));
  CHECK(*estimated_duration_s(job_status::pending, 2.0, 10, 0, 0) == Approx(22.0));  // no slot: as one
  // A running job: what remains of a typical run, never below zero.
  CHECK(*estimated_duration_s(job_status::running, 10.0, 0, 4, 3.5) == Approx(6.5));
  CHECK(*estimated_duration_s(job_status::running, 10.0, 0, 4, 30) == Approx(0));
  // Finished, or no history: none.
  CHECK_FALSE(estimated_duration_s(job_status::completed, 2.0, 0, 4, 0));
  CHECK_FALSE(estimated_duration_s(job_status::pending, std::nullopt, 0, 4, 0));
}

TEST_CASE("progress without an ETA gets one from its rate", "[estimates]") {
  const auto started = clock::now();
  const auto now = started + std::chrono::seconds(10);
  // 25 % in 10 s: 30 s more.
  auto t = completion_from_rate(25, started, now);
  REQUIRE(t);
  CHECK(std::chrono::duration<double>(*t - now).count() == Approx(30).epsilon(0.001));
  CHECK_FALSE(completion_from_rate(0, started, now));
  CHECK_FALSE(completion_from_rate(100, started, now));
  CHECK_FALSE(completion_from_rate(50, now, now));
}
