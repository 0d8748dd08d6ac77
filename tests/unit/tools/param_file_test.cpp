// The "file" param type (tools/param_schema.hpp): a stored file's id.
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "tools/param_schema.hpp"

using namespace overseer;

TEST_CASE("param schema: a file param takes a file id and nothing else", "[tools][files]") {
  const auto schema = boost::json::parse(R"({"input": {"type": "file", "required": true}})").as_object();
  CHECK(tools::check_schema(schema).empty());
  boost::json::object out;
  CHECK(tools::validate_params(schema, {{"input", "file_01ARZ3NDEKTSV4RRFFQ69G5FAV"}}, out).empty());
  for (const auto& bad : {boost::json::value{"/etc/passwd"}, boost::json::value{"job_01ARZ3NDEKTSV4RRFFQ69G5FAV"},
                          boost::json::value{"file_01ARZ3NDEKTSV4RRFFQ69G5FA"}, boost::json::value{7}}) {
    auto errors = tools::validate_params(schema, {{"input", bad}}, out);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "params.input");
    CHECK(errors[0].message.starts_with("expected a file id"));
  }
  auto errors = tools::check_schema(boost::json::parse(R"({"x": {"type": "blob"}})").as_object());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message.find("array, file;") != std::string::npos);
}
