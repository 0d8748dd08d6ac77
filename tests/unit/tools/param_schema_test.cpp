#include "tools/param_schema.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

namespace {

using overseer::field_error;
using overseer::tools::check_schema;
using overseer::tools::validate_params;

boost::json::object obj(std::string_view json) { return boost::json::parse(json).as_object(); }

const boost::json::object schema = obj(R"({
  "seconds": {"type": "number", "default": 1, "minimum": 0, "maximum": 10},
  "steps":   {"type": "integer", "default": 4, "minimum": 1},
  "path":    {"type": "string", "required": true, "pattern": "[a-z]+\\.fa"},
  "mode":    {"type": "string", "enum": ["fast", "exact"]},
  "verbose": {"type": "boolean"},
  "labels":  {"type": "object"},
  "files":   {"type": "array"}
})");

// Validates and expects exactly one error; returns it.
field_error only_error(const boost::json::object& params) {
  boost::json::object out;
  auto errors = validate_params(schema, params, out);
  REQUIRE(errors.size() == 1);
  return errors.front();
}

}  // namespace

TEST_CASE("a well-formed schema has no problems", "[param_schema]") {
  CHECK(check_schema(schema).empty());
  CHECK(check_schema({}).empty());
}

TEST_CASE("check_schema refuses malformed entries, naming the field", "[param_schema]") {
  auto single = [](std::string_view json) {
    auto errors = check_schema(obj(json));
    REQUIRE(errors.size() == 1);
    return errors.front();
  };
  SECTION("an entry that is not an object") {
    CHECK(single(R"({"x": 3})").field == "params.x");
  }
  SECTION("an unknown type") {
    auto e = single(R"({"x": {"type": "float"}})");
    CHECK(e.field == "params.x.type");
    CHECK_THAT(e.message, Catch::Contains("\"float\""));
  }
  SECTION("a missing type") {
    CHECK(single(R"({"x": {"required": true}})").field == "params.x.type");
  }
  SECTION("an unknown key, with the nearest one suggested") {
    auto e = single(R"({"seconds": {"type": "number", "typ": "number"}})");
    CHECK(e.field == "params.seconds.typ");
    CHECK(e.message == R"(unknown key "typ"; did you mean "type"?)");
  }
  SECTION("minimum above maximum") {
    auto e = single(R"({"x": {"type": "integer", "minimum": 5, "maximum": 1}})");
    CHECK(e.field == "params.x.minimum");
    CHECK_THAT(e.message, Catch::Contains("5") && Catch::Contains("1"));
  }
  SECTION("a pattern that does not compile") {
    CHECK(single(R"({"x": {"type": "string", "pattern": "([a-z"}})").field == "params.x.pattern");
  }
  SECTION("an enum that is not an array") {
    CHECK(single(R"({"x": {"type": "string", "enum": "a"}})").field == "params.x.enum");
  }
  SECTION("a default of the wrong type") {
    auto e = single(R"({"x": {"type": "integer", "default": "four"}})");
    CHECK(e.field == "params.x.default");
    CHECK(e.message == R"(expected integer, found "four")");
  }
  SECTION("a default outside its own bounds") {
    auto e = single(R"({"x": {"type": "integer", "default": 20, "maximum": 10}})");
    CHECK(e.field == "params.x.default");
    CHECK(e.message == "20 is above the maximum 10");
  }
  SECTION("a default not in its own enum") {
    CHECK(single(R"({"x": {"type": "string", "enum": ["a"], "default": "b"}})").field ==
          "params.x.default");
  }
}

TEST_CASE("check_schema reports every problem at once", "[param_schema]") {
  auto errors = check_schema(obj(R"({"a": {"type": "text"}, "b": 1, "c": {"type": "number", "max": 3}})"));
  CHECK(errors.size() == 3);
}

TEST_CASE("valid params come back with defaults filled in", "[param_schema]") {
  boost::json::object out;
  auto errors = validate_params(schema, obj(R"({"path": "genome.fa", "mode": "fast"})"), out);
  CHECK(errors.empty());
  CHECK(out == obj(R"({"seconds": 1, "steps": 4, "path": "genome.fa", "mode": "fast"})"));
}

TEST_CASE("given params override defaults", "[param_schema]") {
  boost::json::object out;
  auto errors = validate_params(
    schema,
    obj(R"({"path": "a.fa", "seconds": 2.5, "steps": 8, "verbose": true, "labels": {}, "files": []})"),
    out);
  CHECK(errors.empty());
  CHECK(out.at("seconds").as_double() == 2.5);
  CHECK(out.at("steps").as_int64() == 8);
  CHECK(out.at("verbose").as_bool());
}

TEST_CASE("a missing required param is reported", "[param_schema]") {
  auto e = only_error({});
  CHECK(e.field == "params.path");
  CHECK(e.message == "is required");
}

TEST_CASE("an unknown param suggests the nearest known name", "[param_schema]") {
  auto e = only_error(obj(R"({"path": "a.fa", "secnds": 3})"));
  CHECK(e.field == "params.secnds");
  CHECK(e.message == R"(unknown parameter "secnds"; did you mean "seconds"?)");
}

TEST_CASE("an unknown param far from every name gets no suggestion", "[param_schema]") {
  auto e = only_error(obj(R"({"path": "a.fa", "colour_scheme": 3})"));
  CHECK(e.message == R"(unknown parameter "colour_scheme")");
}

TEST_CASE("integer accepts whole numbers only", "[param_schema]") {
  boost::json::object out;
  CHECK(validate_params(schema, obj(R"({"path": "a.fa", "steps": 3.0})"), out).empty());
  CHECK(validate_params(schema, obj(R"({"path": "a.fa", "steps": 18446744073709551615})"), out).empty());
  auto e = only_error(obj(R"({"path": "a.fa", "steps": 2.5})"));
  CHECK(e.field == "params.steps");
  CHECK(e.message == "expected integer, found 2.5");
}

TEST_CASE("type mismatches say what was expected and found", "[param_schema]") {
  CHECK(only_error(obj(R"({"path": 5})")).message == "expected string, found 5");
  CHECK(only_error(obj(R"({"path": "a.fa", "seconds": "2"})")).message ==
        R"(expected number, found "2")");
  CHECK(only_error(obj(R"({"path": "a.fa", "verbose": 1})")).message == "expected boolean, found 1");
  CHECK(only_error(obj(R"({"path": "a.fa", "labels": []})")).message == "expected object, found []");
  CHECK(only_error(obj(R"({"path": "a.fa", "files": null})")).message == "expected array, found null");
}

TEST_CASE("bounds say the value and the limit", "[param_schema]") {
  CHECK(only_error(obj(R"({"path": "a.fa", "seconds": 12})")).message ==
        "12 is above the maximum 10");
  CHECK(only_error(obj(R"({"path": "a.fa", "seconds": -0.5})")).message ==
        "-0.5 is below the minimum 0");
  CHECK(only_error(obj(R"({"path": "a.fa", "steps": 0})")).message == "0 is below the minimum 1");
  boost::json::object out;
  CHECK(validate_params(schema, obj(R"({"path": "a.fa", "seconds": 10})"), out).empty());
}

TEST_CASE("an enum refuses values outside it", "[param_schema]") {
  CHECK(only_error(obj(R"({"path": "a.fa", "mode": "slow"})")).message ==
        R"("slow" is not one of ["fast","exact"])");
}

TEST_CASE("a pattern must match the whole string", "[param_schema]") {
  auto e = only_error(obj(R"({"path": "genome.fa.gz"})"));
  CHECK(e.field == "params.path");
  CHECK_THAT(e.message, Catch::Contains("does not match the pattern"));
}

TEST_CASE("every validation error is reported at once and out is left alone", "[param_schema]") {
  boost::json::object out{{"untouched", true}};
  auto errors = validate_params(schema, obj(R"({"seconds": 99, "steps": "x", "speed": 1})"), out);
  CHECK(errors.size() == 4);  // seconds, steps, missing path, unknown speed
  CHECK(out == obj(R"({"untouched": true})"));
}

TEST_CASE("a pattern checks long values in linear time, without recursion", "[param_schema]") {
  // std::regex recursed once per character: 100,000 characters overflowed
  // the stack of the thread validating the submit.
  const auto n = GENERATE(std::size_t{100'000}, std::size_t{1'000'000});
  const auto s = obj(R"({"name": {"type": "string", "pattern": "([a-z]|_)+(\\.fa)?"}})");
  REQUIRE(check_schema(s).empty());
  boost::json::object out;
  CHECK(validate_params(s, {{"name", std::string(n, 'a') + ".fa"}}, out).empty());
  const auto errors = validate_params(s, {{"name", std::string(n, 'a') + "!"}}, out);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "params.name");
  // The message quotes the start of the value, not all of it.
  CHECK_THAT(errors[0].message, Catch::StartsWith("\"aaaa") && Catch::Contains("...") &&
                                    Catch::EndsWith("does not match the pattern ([a-z]|_)+(\\.fa)?"));
  CHECK(errors[0].message.size() < 400);
}

TEST_CASE("a pattern sees every byte of the value, NUL included", "[param_schema]") {
  const auto s = obj(R"({"id": {"type": "string", "pattern": "[a-z]+"}})");
  boost::json::object out;
  const auto errors = validate_params(s, {{"id", std::string("abc\0; rm -rf /", 14)}}, out);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "params.id");
  CHECK_THAT(errors[0].message, Catch::Contains("does not match the pattern [a-z]+"));
  // A pattern that allows a NUL byte accepts it.
  const auto nul = obj(R"({"id": {"type": "string", "pattern": "[a-z]+\\x00[a-z]+"}})");
  REQUIRE(check_schema(nul).empty());
  CHECK(validate_params(nul, {{"id", std::string("abc\0def", 7)}}, out).empty());
}

TEST_CASE("a pattern RE2 cannot compile is refused with RE2's reason", "[param_schema]") {
  struct row {
    const char* pattern;
    const char* reason;
  };
  const auto [pattern, reason] = GENERATE(row{"(a)\\1", "invalid escape sequence: \\1"},
                                          row{"a(?=b)", "invalid perl operator: (?="},
                                          row{"(?<!a)b", "invalid perl operator: (?<"},
                                          row{"([a-z", "missing ]: [a-z"});
  const auto errors = check_schema({{"x", {{"type", "string"}, {"pattern", pattern}}}});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "params.x.pattern");
  CHECK_THAT(errors[0].message, Catch::Contains("is not a valid RE2 regular expression") &&
                                    Catch::EndsWith(reason));
}

TEST_CASE("absolute_path refuses relative paths and NUL bytes", "[param_schema]") {
  const auto s = obj(R"({"path": {"type": "string", "absolute_path": true}})");
  REQUIRE(check_schema(s).empty());
  boost::json::object out;
  CHECK(validate_params(s, obj(R"({"path": "/srv/genomes/a.fa"})"), out).empty());
  auto errors = validate_params(s, obj(R"({"path": "a.fa"})"), out);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "params.path");
  CHECK(errors[0].message == R"("a.fa" is a relative path; give an absolute one, starting with /)");
  errors = validate_params(s, {{"path", std::string("/a\0b", 4)}}, out);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "contains a NUL byte, which no path can");

  auto bad = check_schema(obj(R"({"n": {"type": "integer", "absolute_path": true},
                                   "p": {"type": "string", "absolute_path": "yes"}})"));
  REQUIRE(bad.size() == 2);
  CHECK(bad[0].field == "params.n.absolute_path");
  CHECK(bad[1].field == "params.p.absolute_path");
}

TEST_CASE("a strict tool that declares no params refuses every param", "[param_schema]") {
  overseer::tool_definition d;
  d.name = "noop";
  boost::json::object out;
  CHECK(validate_params(d, obj(R"({"ref": "hg38"})"), out).empty());  // free-form by default
  CHECK(out == obj(R"({"ref": "hg38"})"));
  d.strict_params = true;
  const auto errors = validate_params(d, obj(R"({"ref": "hg38"})"), out);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "params.ref");
  CHECK(errors[0].message == R"(unknown parameter "ref": this tool takes no params)");
  CHECK(validate_params(d, {}, out).empty());
}
