#include "actors/job_lifecycle.hpp"

#include <array>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

using namespace overseer;
using overseer::actors::can_transition;

namespace {

using s = job_status;

// Rows: from (index 0 is "none", a job's creation, then the statuses in
// declaration order). Columns: to, in declaration order. Written out from the
// lifecycle diagram in docs/architecture.md, not derived from the code under test.
constexpr int P = 1;  // permitted
constexpr int r = 0;  // refused
constexpr std::array<std::array<int, 7>, 8> expected{{
  //            pending running retrying completed failed cancelled timed_out
  /* none      */ {P, r, r, P, r, r, r},  // submit; completed = a cache hit
  /* pending   */ {r, P, r, r, P, P, r},  // failed = a dependency failed
  /* running   */ {P, r, P, P, P, P, P},  // pending = interrupted by a restart
  /* retrying  */ {P, r, r, r, r, P, r},
  /* completed */ {r, r, r, r, r, r, r},
  /* failed    */ {P, r, r, r, r, r, r},  // explicit retry
  /* cancelled */ {P, r, r, r, r, r, r},  // explicit retry
  /* timed_out */ {P, r, r, r, r, r, r},  // explicit retry
}};

constexpr std::array<s, 7> statuses{s::pending,   s::running, s::retrying, s::completed,
                                    s::failed,    s::cancelled, s::timed_out};

std::optional<s> from_row(int row) {
  if (row == 0) return std::nullopt;
  return statuses[static_cast<std::size_t>(row - 1)];
}

}  // namespace

TEST_CASE("the status list covers every status exactly once, in declaration order",
          "[job_lifecycle]") {
  REQUIRE(std::size(all_job_statuses) == statuses.size());
  for (std::size_t i = 0; i < statuses.size(); ++i) CHECK(all_job_statuses[i] == statuses[i]);
}

TEST_CASE("every status pair is allowed or refused exactly as the lifecycle diagram says",
          "[job_lifecycle]") {
  const int row = GENERATE(range(0, 8));
  const int col = GENERATE(range(0, 7));
  const auto from = from_row(row);
  const auto to = statuses[static_cast<std::size_t>(col)];
  const std::string from_name = from ? std::string(to_string(*from)) : "none";
  const std::string to_name{to_string(to)};
  const bool allowed = expected[static_cast<std::size_t>(row)][static_cast<std::size_t>(col)] == P;
  CAPTURE(from_name, to_name, allowed);
  CHECK(can_transition(from, to) == allowed);
}

TEST_CASE("a completed job never moves again, and no status moves to itself", "[job_lifecycle]") {
  const auto st = GENERATE(from_range(statuses.begin(), statuses.end()));
  CAPTURE(std::string(to_string(st)));
  CHECK_FALSE(can_transition(st, st));
  CHECK_FALSE(can_transition(s::completed, st));
}

TEST_CASE("cancellation is reachable from every live status and never retried automatically",
          "[job_lifecycle]") {
  CHECK(can_transition(s::pending, s::cancelled));
  CHECK(can_transition(s::running, s::cancelled));
  CHECK(can_transition(s::retrying, s::cancelled));
  CHECK_FALSE(can_transition(s::cancelled, s::retrying));
  CHECK_FALSE(can_transition(s::cancelled, s::running));
}

TEST_CASE("every status survives to_string then parse_job_status", "[job_lifecycle]") {
  auto [st, name] = GENERATE(table<s, std::string>({
    {s::pending, "pending"},
    {s::running, "running"},
    {s::retrying, "retrying"},
    {s::completed, "completed"},
    {s::failed, "failed"},
    {s::cancelled, "cancelled"},
    {s::timed_out, "timed_out"},
  }));
  CAPTURE(name);
  CHECK(to_string(st) == name);
  const auto parsed = parse_job_status(name);
  REQUIRE(parsed.has_value());
  CHECK(*parsed == st);
}

TEST_CASE("only completed, failed, cancelled and timed_out are terminal", "[job_lifecycle]") {
  auto [st, terminal] = GENERATE(table<s, bool>({
    {s::pending, false},
    {s::running, false},
    {s::retrying, false},
    {s::completed, true},
    {s::failed, true},
    {s::cancelled, true},
    {s::timed_out, true},
  }));
  CAPTURE(std::string(to_string(st)));
  CHECK(is_terminal(st) == terminal);
}

TEST_CASE("unknown status strings parse to nothing", "[job_lifecycle]") {
  const std::string text = GENERATE(as<std::string>{}, "", "unknown", "Pending", "PENDING",
                                    " pending", "pending ", "timed-out", "timedout", "cancel",
                                    "canceled", "done", "pendingx", "none");
  CAPTURE(text);
  CHECK_FALSE(parse_job_status(text).has_value());
}

TEST_CASE("every log level survives to_string then parse_log_level", "[job_lifecycle]") {
  auto [level, name] = GENERATE(table<log_level, std::string>({
    {log_level::debug, "debug"},
    {log_level::info, "info"},
    {log_level::warning, "warning"},
    {log_level::error, "error"},
    {log_level::critical, "critical"},
  }));
  CAPTURE(name);
  CHECK(to_string(level) == name);
  const auto parsed = parse_log_level(name);
  REQUIRE(parsed.has_value());
  CHECK(*parsed == level);
}

TEST_CASE("log levels are ordered from debug to critical", "[job_lifecycle]") {
  CHECK(log_level::debug < log_level::info);
  CHECK(log_level::info < log_level::warning);
  CHECK(log_level::warning < log_level::error);
  CHECK(log_level::error < log_level::critical);
}

TEST_CASE("unknown log level strings parse to nothing", "[job_lifecycle]") {
  const std::string text = GENERATE(as<std::string>{}, "", "unknown", "warn", "WARNING", "Info",
                                    "err", "fatal", "trace", " debug", "critical ");
  CAPTURE(text);
  CHECK_FALSE(parse_log_level(text).has_value());
}
