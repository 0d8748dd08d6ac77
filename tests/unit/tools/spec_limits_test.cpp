// The limits of a job spec, checked in one place: ranges, and text lengths
// in characters, not bytes.
#include <catch2/catch.hpp>

#include "tools/spec_limits.hpp"

using namespace overseer;
using namespace overseer::tools;

TEST_CASE("text lengths count characters, and ill-formed UTF-8 is refused", "[spec_limits]") {
  std::string e_acute;
  for (int i = 0; i < 256; ++i) e_acute += "\xC3\xA9";  // 512 bytes, 256 characters
  CHECK_FALSE(text_problem(e_acute, 0, max_name_chars));
  CHECK(text_problem(e_acute + "x", 0, max_name_chars) == "expected at most 256 characters, found 257");
  CHECK(text_problem("", 1, max_idempotency_key_chars) == "expected 1-256 characters, found 0");
  CHECK(text_problem("\xC3", 0, 10) == "is not valid UTF-8");
}

TEST_CASE("labels: a count, a name length and a value length", "[spec_limits]") {
  std::vector<field_error> errors;
  check_labels({{"team", "gfx"}, {std::string(64, 'k'), std::string(256, 'v')}}, errors);
  CHECK(errors.empty());

  check_labels({{"", "x"}, {"ok", std::string(257, 'v')}}, errors);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].field == "labels");
  CHECK(errors[0].message == "label name \"\": expected 1-64 characters, found 0");
  CHECK(errors[1].field == "labels.ok");
  CHECK(errors[1].message == "expected at most 256 characters, found 257");

  std::map<std::string, std::string> many;
  for (int i = 0; i < 65; ++i) many["l" + std::to_string(i)] = "v";
  errors.clear();
  check_labels(many, errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "65 labels; at most 64 are allowed");
}

TEST_CASE("a priority or a ttl outside its range names the value and the range", "[spec_limits]") {
  CHECK_FALSE(range_problem(max_priority, min_priority, max_priority));
  CHECK(range_problem(11, min_priority, max_priority) == "11 is outside 0-10");
  CHECK(range_problem(-1, min_priority, max_priority) == "-1 is outside 0-10");
  CHECK(range_problem(0, min_ttl_hours, max_ttl_hours) == "0 is outside 1-168");
  CHECK_FALSE(range_problem(168, min_ttl_hours, max_ttl_hours));
}
