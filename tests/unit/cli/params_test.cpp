#include "cli/params.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace overseer::cli;
namespace json = boost::json;

namespace {
const json::value sleep_tool = json::parse(R"({"name":"sleep","params":{
  "seconds":{"type":"number"},"steps":{"type":"integer"},"loud":{"type":"boolean"},
  "tags":{"type":"array"},"opts":{"type":"object"},"label":{"type":"string"}}})");
}

TEST_CASE("NAME=VALUE words take the type the tool's schema gives them", "[cli][params]") {
  const auto r = type_params(sleep_tool, {"seconds=2.5", "steps=4", "loud=yes", "tags=[1,2]", "opts={\"a\":1}",
                                          "label=007", "seconds=3"});
  REQUIRE(r.errors.empty());
  CHECK(r.params.at("seconds").as_int64() == 3);  // the later word wins; a whole number stays an integer
  CHECK(r.params.at("steps").as_int64() == 4);
  CHECK(r.params.at("loud").as_bool());
  CHECK(r.params.at("tags").as_array().size() == 2);
  CHECK(r.params.at("opts").as_object().at("a").as_int64() == 1);
  CHECK(r.params.at("label").as_string() == "007");  // a string stays as written
  CHECK(type_params(sleep_tool, {"seconds=2.5"}).params.at("seconds").as_double() == 2.5);
  CHECK(type_params(sleep_tool, {"label=a=b"}).params.at("label").as_string() == "a=b");
}

TEST_CASE("a word that does not fit is named, with the expected type or the nearest param", "[cli][params]") {
  using Catch::Matchers::Contains;
  const auto r = type_params(sleep_tool, {"seconds=x", "steps=1.5", "loud=maybe", "tags={}", "stpes=3", "oops",
                                          "seconds=inf", "seconds=0x10", "steps= 3"});
  REQUIRE(r.errors.size() == 9);
  CHECK_THAT(r.errors[0], Contains("param \"seconds\": expected a number, found \"x\""));
  CHECK_THAT(r.errors[1], Contains("param \"steps\": expected an integer, found \"1.5\""));
  CHECK_THAT(r.errors[2], Contains("param \"loud\": expected true or false"));
  CHECK_THAT(r.errors[3], Contains("expected a JSON array"));
  CHECK_THAT(r.errors[4], Contains("param \"stpes\": unknown for tool sleep; did you mean \"steps\"?"));
  CHECK_THAT(r.errors[5], Contains("\"oops\" is not a param: write NAME=VALUE"));
  CHECK_THAT(r.errors[6], Contains("expected a number"));
  CHECK_THAT(r.errors[7], Contains("expected a number"));
  CHECK_THAT(r.errors[8], Contains("expected an integer"));
  CHECK(r.params.empty());
}

TEST_CASE("without a schema a value is JSON when it parses, else a string", "[cli][params]") {
  const auto r = type_params(json::value{}, {"n=3", "s=hello", "b=true"}, json::object{{"kept", 1}});
  REQUIRE(r.errors.empty());
  CHECK(r.params.at("n").as_int64() == 3);
  CHECK(r.params.at("s").as_string() == "hello");
  CHECK(r.params.at("b").as_bool());
  CHECK(r.params.at("kept").as_int64() == 1);
}

TEST_CASE("labels are KEY=VALUE strings", "[cli][params]") {
  const auto ok = string_pairs({"country=Kenya", "n=1"}, "--label");
  CHECK(ok.errors.empty());
  CHECK(ok.params.at("n").as_string() == "1");
  const auto bad = string_pairs({"=x", "plain"}, "--label");
  CHECK(bad.errors.size() == 2);
}
