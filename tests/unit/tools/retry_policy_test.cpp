// check_retry_policy: the one rule for a retry policy, whoever declares it
// (a job spec over HTTP or from C++, a tool, the tools file).
#include <cmath>
#include <limits>

#include <catch2/catch.hpp>

#include "overseer/retry_policy.hpp"

using namespace overseer;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> fields(const retry_policy& p) {
  std::vector<std::string> out;
  for (const auto& e : check_retry_policy(p)) out.push_back(e.field);
  return out;
}

std::string only_message(const retry_policy& p) {
  const auto errors = check_retry_policy(p);
  REQUIRE(errors.size() == 1);
  return errors.front().message;
}

}  // namespace

TEST_CASE("the default policy and the bounds themselves are valid", "[retry_policy]") {
  CHECK(check_retry_policy({}).empty());
  CHECK(check_retry_policy({.max_attempts = 1, .initial_backoff = 0ms, .max_backoff = 0ms, .multiplier = 1}).empty());
  CHECK(check_retry_policy({.max_attempts = max_retry_attempts,
                            .initial_backoff = std::chrono::milliseconds(max_retry_backoff_ms),
                            .max_backoff = std::chrono::milliseconds(max_retry_backoff_ms),
                            .multiplier = max_retry_multiplier})
          .empty());
}

TEST_CASE("each field out of bounds is named with the value and the bounds", "[retry_policy]") {
  CHECK(only_message({.max_attempts = 0}) == "0 is outside 1-100");
  CHECK(only_message({.max_attempts = 101}) == "101 is outside 1-100");
  CHECK(only_message({.initial_backoff = -1ms}) == "-1 is outside 0-604800000 (7 days)");
  CHECK(only_message({.max_backoff = std::chrono::milliseconds(max_retry_backoff_ms + 1)}) ==
        "604800001 is above 604800000 (7 days)");
  CHECK(only_message({.initial_backoff = 2000ms, .max_backoff = 1000ms}) == "1000 is below initial_backoff_ms 2000");
  CHECK(only_message({.multiplier = 0.5}) == "0.5 is outside 1-100");
  CHECK(only_message({.multiplier = 100.5}) == "100.5 is outside 1-100");
  CHECK(fields({.multiplier = std::numeric_limits<double>::quiet_NaN()}) == std::vector<std::string>{"retry.multiplier"});
}

TEST_CASE("every bad field is reported at once, in the policy's order", "[retry_policy]") {
  const retry_policy p{.max_attempts = -3, .initial_backoff = -5ms, .max_backoff = 1000ms * 3600 * 24 * 8,
                       .multiplier = 0};
  CHECK(fields(p) == std::vector<std::string>{"retry.max_attempts", "retry.initial_backoff_ms", "retry.max_backoff_ms",
                                              "retry.multiplier"});
}
