#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tools/trace_context.hpp"

using namespace overseer::tools;

TEST_CASE("a W3C traceparent gives its trace id, anything else says what is wrong", "[tools][trace]") {
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto ok = parse_traceparent("00-" + trace + "-00f067aa0ba902b7-01");
  REQUIRE(ok.trace_id);
  CHECK(*ok.trace_id == trace);
  CHECK(ok.error.empty());
  // Optional whitespace around a header value is not part of it.
  CHECK(parse_traceparent(" 00-" + trace + "-00f067aa0ba902b7-00\t").trace_id == trace);
  // A later version may add fields after the flags.
  CHECK(parse_traceparent("01-" + trace + "-00f067aa0ba902b7-01-extra").trace_id == trace);

  for (const std::string& bad : std::vector<std::string>{
         std::string{},
         "00-" + trace + "-00f067aa0ba902b7-01-extra",     // version 00 has no more fields
         "ff-" + trace + "-00f067aa0ba902b7-01",           // version ff is invalid
         "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
         "00-" + trace + "-0000000000000000-01",           // all-zero parent id
         "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
         "00-" + trace + "-00f067aa0ba902b7-0g",
         "00_" + trace + "_00f067aa0ba902b7_01",
         "00-" + trace.substr(1) + "-00f067aa0ba902b7-01",
         "\xff\xfe-" + trace + "-00f067aa0ba902b7-01"}) {
    auto r = parse_traceparent(bad);
    CHECK_FALSE(r.trace_id);
    CHECK_FALSE(r.error.empty());
  }
}

TEST_CASE("a trace id is 32 lowercase hex digits, not all zero", "[tools][trace]") {
  CHECK(valid_trace_id("4bf92f3577b34da6a3ce929d0e0e4736"));
  CHECK_FALSE(valid_trace_id("00000000000000000000000000000000"));
  CHECK_FALSE(valid_trace_id("4bf92f3577b34da6a3ce929d0e0e473"));
  CHECK_FALSE(valid_trace_id("4BF92F3577B34DA6A3CE929D0E0E4736"));
  CHECK_FALSE(valid_trace_id(""));
}

TEST_CASE("a tool's traceparent continues the job's trace with a span per attempt", "[tools][trace]") {
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const auto first = traceparent_for(trace, "job_01J8S1MFMA1ZBPG0ENKXC1P4NZ", 1);
  const auto again = traceparent_for(trace, "job_01J8S1MFMA1ZBPG0ENKXC1P4NZ", 1);
  const auto second = traceparent_for(trace, "job_01J8S1MFMA1ZBPG0ENKXC1P4NZ", 2);
  CHECK(first == again);
  CHECK(first != second);
  // What it makes, it reads back.
  for (const auto& tp : {first, second}) {
    auto r = parse_traceparent(tp);
    REQUIRE(r.trace_id);
    CHECK(*r.trace_id == trace);
    CHECK(tp.ends_with("-01"));
  }
}
