// check_engine_config and validate_engine_config: an engine_config is checked, every field
// at once, when the engine is constructed.
#include <catch2/catch.hpp>

#include "overseer/engine.hpp"

using namespace overseer;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> fields(const engine_config& c) {
  std::vector<std::string> out;
  for (const auto& e : check_engine_config(c)) out.push_back(e.field);
  return out;
}

}  // namespace

TEST_CASE("the default engine_config and the bounds themselves are valid", "[engine_config]") {
  CHECK(check_engine_config({}).empty());
  CHECK(check_engine_config({.max_concurrent = 0, .default_priority = 0, .default_ttl_hours = 1, .max_failures = 0,
                             .failure_window = 1ms, .progress_interval = 1ms, .cache_ttl = 1s,
                             .retention_interval = 1ms, .event_retention = 1})
          .empty());
  CHECK(check_engine_config({.default_priority = 10, .default_ttl_hours = 168}).empty());
  CHECK_NOTHROW(validate_engine_config({}));
}

TEST_CASE("each field out of bounds is named", "[engine_config]") {
  using V = std::vector<std::string>;
  CHECK(fields({.data_dir = ""}) == V{"data_dir"});
  CHECK(fields({.max_concurrent = -1}) == V{"max_concurrent"});
  CHECK(fields({.default_priority = -1}) == V{"default_priority"});
  CHECK(fields({.default_priority = 11}) == V{"default_priority"});
  CHECK(fields({.default_ttl_hours = 0}) == V{"default_ttl_hours"});
  CHECK(fields({.default_ttl_hours = 169}) == V{"default_ttl_hours"});
  CHECK(fields({.max_failures = -1}) == V{"max_failures"});
  CHECK(fields({.failure_window = 0ms}) == V{"failure_window"});
  CHECK(fields({.progress_interval = -5ms}) == V{"progress_interval"});
  CHECK(fields({.cache_ttl = 0s}) == V{"cache_ttl"});
  CHECK(fields({.retention_interval = 0ms}) == V{"retention_interval"});
  CHECK(fields({.event_retention = 0}) == V{"event_retention"});
}

TEST_CASE("validate_engine_config names every bad field in one message, and the engine refuses to be built", "[engine_config]") {
  const engine_config bad{.default_priority = 11, .failure_window = 0ms};
  try {
    validate_engine_config(bad);
    FAIL("validate_engine_config accepted a bad config");
  } catch (const error& e) {
    CHECK(e.code() == errc::invalid_spec);
    CHECK(std::string{e.what()} ==
          "invalid engine_config: default_priority 11 is outside 0-10; failure_window 0 ms is not positive");
    REQUIRE(e.fields().size() == 2);
    CHECK(e.fields()[0].field == "default_priority");
    CHECK(e.fields()[1].field == "failure_window");
  }
  CHECK_THROWS_AS(engine{bad}, error);
}
