#include "http/strict_json.hpp"

#include <string>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

using namespace overseer;
using namespace overseer::http;
namespace json = boost::json;

namespace {

std::vector<std::string> duplicate_fields(std::string_view text) {
  auto parsed = parse_strict_json(text);
  INFO(text);
  CHECK(parsed.syntax_error.empty());
  CHECK(parsed.value.is_null());
  std::vector<std::string> fields;
  for (const auto& d : parsed.duplicates) fields.push_back(d.field);
  return fields;
}

std::string nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("strict JSON reads what json::parse reads, to the same value", "[strict_json]") {
  for (std::string_view text : {R"({"tool":"sleep","params":{"seconds":1.5,"steps":3},"labels":{}})",
                                R"([1,-2,18446744073709551615,2.5e3,true,false,null,"x\u00e9\n"])",
                                R"({"a":{"b":{"c":[{"d":[]}]}}})", R"("just a string")", "42",
                                R"({"jobs":[{"tool":"noop"},{"tool":"noop"}]})"}) {
    INFO(text);
    auto parsed = parse_strict_json(text);
    REQUIRE(parsed.ok());
    CHECK(parsed.value == json::parse(text));
  }
}

TEST_CASE("a repeated key is named by its path, once however often it repeats", "[strict_json]") {
  CHECK(duplicate_fields(R"({"priority":1,"priority":9})") == std::vector<std::string>{"priority"});
  CHECK(duplicate_fields(R"({"tool":"sleep","params":{"seconds":1,"seconds":2}})") ==
        std::vector<std::string>{"params.seconds"});
  CHECK(duplicate_fields(R"({"jobs":[{"tool":"a"},{"tool":"a","tool":"b"}]})") ==
        std::vector<std::string>{"jobs[1].tool"});
  CHECK(duplicate_fields(R"([{"a":1},[{"b":1,"b":2}]])") == std::vector<std::string>{"[1][0].b"});
  CHECK(duplicate_fields(R"({"a":1,"a":2,"a":3})") == std::vector<std::string>{"a"});
  CHECK(duplicate_fields(R"({"b":1,"a":1,"b":2,"a":2})") == std::vector<std::string>{"a", "b"});
  // Keys compare as decoded: an escape is the same key.
  CHECK(duplicate_fields(R"({"a":1,"\u0061":2})") == std::vector<std::string>{"a"});
  // The path follows the parse: a repeat in one job of a batch, after others.
  CHECK(duplicate_fields(R"({"name":"x","jobs":[{},{"retry":{"max_attempts":1,"max_attempts":2}}],"name":"y"})") ==
        std::vector<std::string>{"jobs[1].retry.max_attempts", "name"});
  auto parsed = parse_strict_json(R"({"priority":1,"priority":9})");
  REQUIRE(parsed.duplicates.size() == 1);
  CHECK(parsed.duplicates.front().message.find("\"priority\" appears more than once") != std::string::npos);
}

TEST_CASE("equal keys in different objects are no repeat", "[strict_json]") {
  auto parsed = parse_strict_json(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":{"a":1}})");
  CHECK(parsed.ok());
}

TEST_CASE("nesting is limited to 32 levels", "[strict_json]") {
  CHECK(parse_strict_json(nested(32)).ok());
  auto deep = parse_strict_json(nested(33));
  CHECK(deep.syntax_error == json::make_error_code(json::error::too_deep).message());
  CHECK(parse_strict_json(nested(100000)).syntax_error == deep.syntax_error);
}

TEST_CASE("text that is not one JSON value is a syntax error", "[strict_json]") {
  for (std::string_view text : {R"({"a":1} {"b":2})", R"({"a":)", "", R"({"a":"\xff"})", R"({"a":1,})", "nul"}) {
    INFO(text);
    auto parsed = parse_strict_json(text);
    CHECK_FALSE(parsed.syntax_error.empty());
    CHECK(parsed.duplicates.empty());
    CHECK(parsed.value.is_null());
  }
}

TEST_CASE("a syntax error says where: the offset, a byte that is not UTF-8, a lone surrogate", "[strict_json]") {
  CHECK(parse_strict_json(R"({"a":1,})").syntax_error == "syntax error at offset 7");
  CHECK(parse_strict_json(R"({"a":)").syntax_error.ends_with("at offset 5"));
  CHECK(parse_strict_json("{\"name\":\"a\xff\"}").syntax_error == "the text is not UTF-8: byte 0xFF at offset 10");
  CHECK(parse_strict_json("{\"name\":\"\xc3\x28\"}").syntax_error == "the text is not UTF-8: byte 0xC3 at offset 9");
  const auto lone = parse_strict_json(R"({"name":"a\ud800"})").syntax_error;
  CHECK_THAT(lone, Catch::Contains("at offset") && Catch::Contains("surrogate"));
  CHECK_THAT(parse_strict_json(R"({"name":"a\u0041x)").syntax_error, !Catch::Contains("surrogate"));
}

TEST_CASE("an object of many keys is checked in n log n, repeats found anywhere", "[strict_json]") {
  std::string text = "{";
  for (int i = 0; i < 100000; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  text += "\"k50000\":0}";
  auto parsed = parse_strict_json(text);
  REQUIRE(parsed.duplicates.size() == 1);
  CHECK(parsed.duplicates.front().field == "k50000");
}
