// The Prometheus text format (0.0.4) as GET /metrics writes it.
#include <string>

#include <catch2/catch.hpp>

#include "metrics/engine_metrics.hpp"
#include "metrics/exposition.hpp"
#include "metrics/instruments.hpp"

using overseer::metrics::exposition;
using overseer::metrics::histogram;

TEST_CASE("a family gets HELP and TYPE once, then its samples", "[metrics]") {
  exposition out;
  out.family("overseer_jobs_submitted_total", "Jobs accepted.", "counter");
  out.sample("overseer_jobs_submitted_total", {{"tool", "sleep"}}, std::uint64_t{3});
  out.family("overseer_jobs_submitted_total", "Jobs accepted.", "counter");
  out.sample("overseer_jobs_submitted_total", {{"tool", "noop"}}, std::uint64_t{0});
  out.family("overseer_up", "Help with a \\ backslash\nand a line feed.", "gauge");
  out.sample("overseer_up", {}, 1.5);
  CHECK(out.text() ==
        "# HELP overseer_jobs_submitted_total Jobs accepted.\n"
        "# TYPE overseer_jobs_submitted_total counter\n"
        "overseer_jobs_submitted_total{tool=\"sleep\"} 3\n"
        "overseer_jobs_submitted_total{tool=\"noop\"} 0\n"
        "# HELP overseer_up Help with a \\\\ backslash\\nand a line feed.\n"
        "# TYPE overseer_up gauge\n"
        "overseer_up 1.5\n");
}

TEST_CASE("label values escape backslash, quote and line feed, and are valid UTF-8", "[metrics]") {
  CHECK(exposition::escape_label("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
  CHECK(exposition::escape_label("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(exposition::escape_label("bad\xFF") == "bad\xEF\xBF\xBD");
  exposition out;
  out.sample("m", {{"a", "x\"y"}, {"b", "2"}}, std::uint64_t{7});
  CHECK(out.text() == "m{a=\"x\\\"y\",b=\"2\"} 7\n");
}

TEST_CASE("numbers: shortest round trip, +Inf, -Inf, NaN", "[metrics]") {
  CHECK(exposition::number(0.025) == "0.025");
  CHECK(exposition::number(86400) == "86400");
  CHECK(exposition::number(1.0 / 0.0) == "+Inf");
  CHECK(exposition::number(-1.0 / 0.0) == "-Inf");
  CHECK(exposition::number(0.0 / 0.0) == "NaN");
}

TEST_CASE("a histogram: cumulative buckets ending in +Inf, then _sum and _count", "[metrics]") {
  static constexpr double bounds[] = {0.1, 1, 10};
  histogram h{bounds};
  h.observe(0.05);
  h.observe(0.1);  // on the bound: le is inclusive
  h.observe(0.5);
  h.observe(100);
  exposition out;
  out.family("overseer_job_run_seconds", "Run time.", "histogram");
  out.histogram("overseer_job_run_seconds", {{"tool", "t"}}, h.read());
  CHECK(out.text() ==
        "# HELP overseer_job_run_seconds Run time.\n"
        "# TYPE overseer_job_run_seconds histogram\n"
        "overseer_job_run_seconds_bucket{tool=\"t\",le=\"0.1\"} 2\n"
        "overseer_job_run_seconds_bucket{tool=\"t\",le=\"1\"} 3\n"
        "overseer_job_run_seconds_bucket{tool=\"t\",le=\"10\"} 3\n"
        "overseer_job_run_seconds_bucket{tool=\"t\",le=\"+Inf\"} 4\n"
        "overseer_job_run_seconds_sum{tool=\"t\"} 100.65\n"
        "overseer_job_run_seconds_count{tool=\"t\"} 4\n");
}

TEST_CASE("a histogram without labels has only le", "[metrics]") {
  static constexpr double bounds[] = {1};
  histogram h{bounds};
  h.observe(-3);  // a clock step backwards counts as 0
  exposition out;
  out.histogram("h", {}, h.read());
  CHECK(out.text() == "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n");
}

TEST_CASE("duration buckets run from 10 ms to 24 h, increasing", "[metrics]") {
  const auto b = overseer::metrics::duration_buckets();
  REQUIRE(b.size() > 2);
  CHECK(b.front() == 0.01);
  CHECK(b.back() == 86400);
  for (std::size_t i = 1; i < b.size(); ++i) CHECK(b[i - 1] < b[i]);
}
