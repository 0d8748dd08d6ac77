#include "tools/did_you_mean.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <string_view>
#include <vector>

using overseer::tools::edit_distance;
using overseer::tools::nearest_name;

TEST_CASE("edit distance counts a swap of neighbours as one edit", "[did_you_mean]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("sleep", "sleep") == 0);
  CHECK(edit_distance("slep", "sleep") == 1);
  CHECK(edit_distance("tpye", "type") == 1);
  CHECK(edit_distance("sort", "tool") == 3);
  CHECK(edit_distance("name", "page") == 2);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("timeout", "timeout_s") == 2);
}

TEST_CASE("a misspelt name gets the known name it is a typo of", "[did_you_mean]") {
  const std::array<std::string_view, 4> tools{"fail", "fasta_stats", "noop", "sleep"};
  CHECK(nearest_name("slep", tools) == "sleep");
  CHECK(nearest_name("fasta_stat", tools) == "fasta_stats");
  CHECK(nearest_name("nop", tools) == "noop");

  const std::vector<std::string_view> keys{"name", "command", "max_concurrent", "timeout_s", "retry"};
  CHECK(nearest_name("max_concurent", keys) == "max_concurrent");
  CHECK(nearest_name("timeout", keys) == "timeout_s");
  CHECK(nearest_name("comand", keys) == "command");
  CHECK(nearest_name("retyr", keys) == "retry");

  const std::array<std::string_view, 2> entry{"type", "required"};
  CHECK(nearest_name("typ", entry) == "type");
  CHECK(nearest_name("tpye", entry) == "type");
}

TEST_CASE("nothing is suggested for a name that is no typo of any known one", "[did_you_mean]") {
  // The query parameters of GET /v1/jobs.
  const std::array<std::string_view, 6> query{"status", "tool", "label.", "limit", "offset", "page"};
  CHECK(nearest_name("name", query).empty());
  CHECK(nearest_name("sort", query).empty());
  CHECK(nearest_name("id", query).empty());
  CHECK(nearest_name("x", query).empty());
  CHECK(nearest_name("", query).empty());
  CHECK(nearest_name("tool", query).empty());  // an exact match needs no correction
  const std::array<std::string_view, 1> tools{"sleep"};
  CHECK(nearest_name("slumber", tools).empty());
  CHECK(nearest_name("sleeping_beauty", tools).empty());
}

TEST_CASE("the nearest of several plausible names wins", "[did_you_mean]") {
  const std::array<std::string_view, 2> names{"steps", "step_name"};
  CHECK(nearest_name("step", names) == "steps");
  CHECK(nearest_name("step_nam", names) == "step_name");
}
