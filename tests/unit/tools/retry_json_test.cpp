// read_retry_policy: one reader of a retry object for the job spec and the
// tools file, each with its own wording of a problem of shape.
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "tools/retry_json.hpp"

using namespace overseer;
using namespace overseer::tools;
using namespace std::chrono_literals;

namespace {

const json_wording plain{
  [](const boost::json::value&, std::string_view expected) { return "not " + std::string(expected); },
  [](std::string_view key, std::string_view nearest) { return std::string(key) + "?" + std::string(nearest); }};

retry_policy read(std::string_view text, std::vector<field_error>& errors) {
  return read_retry_policy(boost::json::parse(text).as_object(), plain, errors);
}

}  // namespace

TEST_CASE("a retry object overrides only what it names", "[retry_json]") {
  std::vector<field_error> errors;
  const auto p = read(R"({"max_attempts": 3, "initial_backoff_ms": 250.0, "retry_on_timeout": true})", errors);
  CHECK(errors.empty());
  CHECK(p == retry_policy{.max_attempts = 3, .initial_backoff = 250ms, .retry_on_timeout = true});
}

TEST_CASE("shape problems use the caller's wording, bounds are check_retry_policy's", "[retry_json]") {
  std::vector<field_error> errors;
  const auto p = read(R"({"max_attempts": 0, "multiplier": "2", "max_backof_ms": 5, "retry_on_timeout": 1,
                          "initial_backoff_ms": -1e30})",
                      errors);
  REQUIRE(errors.size() == 5);
  CHECK(errors[0].field == "retry.multiplier");
  CHECK(errors[0].message == "not number");
  CHECK(errors[1].field == "retry.max_backof_ms");
  CHECK(errors[1].message == "max_backof_ms?max_backoff_ms");
  CHECK(errors[2].message == "not boolean");
  CHECK(errors[3].field == "retry.initial_backoff_ms");
  CHECK(errors[3].message == "-1e+30 is too small");
  CHECK(errors[4].field == "retry.max_attempts");
  CHECK(errors[4].message == "0 is outside 1-100");
  // What could not be read, or is out of bounds, keeps its default.
  CHECK(p == retry_policy{});
}

TEST_CASE("what is read is within bounds, also when the max is below the initial", "[retry_json]") {
  std::vector<field_error> errors;
  const auto p = read(R"({"initial_backoff_ms": 120000})", errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "retry.max_backoff_ms");
  CHECK(check_retry_policy(p).empty());
}
