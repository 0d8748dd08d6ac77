#include "http/problem.hpp"

#include <string>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "http/json_mapping.hpp"

using namespace overseer;
using namespace overseer::http;

TEST_CASE("every error code maps to its one HTTP status", "[problem]") {
  auto [code, status] = GENERATE(table<errc, unsigned>({
    {errc::ok, 200},
    {errc::invalid_spec, 400},
    {errc::unknown_tool, 400},
    {errc::not_found, 404},
    {errc::conflict, 409},
    {errc::not_running, 503},
    {errc::store_failure, 503},
    {errc::timeout, 504},
  }));
  CAPTURE(std::string(to_string(code)));
  CHECK(status_of(code) == status);
}

TEST_CASE("a problem names its type and title after the status", "[problem]") {
  auto [status, slug, title] = GENERATE(table<unsigned, std::string, std::string>({
    {400, "bad-request", "Bad Request"},
    {404, "not-found", "Not Found"},
    {405, "method-not-allowed", "Method Not Allowed"},
    {409, "conflict", "Conflict"},
    {413, "payload-too-large", "Payload Too Large"},
    {415, "unsupported-media-type", "Unsupported Media Type"},
    {503, "unavailable", "Service Unavailable"},
    {504, "timeout", "Gateway Timeout"},
  }));
  const auto p = make_problem(status, "why");
  CHECK(p.at("type").as_string() == "https://overseer.dev/problems/" + slug);
  CHECK(p.at("title").as_string() == title);
  CHECK(p.at("status") == status);
  CHECK(p.at("detail") == "why");
  CHECK_FALSE(p.contains("errors"));
}

TEST_CASE("a problem with field errors lists each one", "[problem]") {
  const auto p = make_problem(400, "the job spec is invalid",
                              {{"priority", "12 is outside 0-10"}, {"tool", "is required"}});
  CHECK(to_json_text(p) ==
        R"({"type":"https://overseer.dev/problems/bad-request","title":"Bad Request","status":400,)"
        R"("detail":"the job spec is invalid","errors":[{"field":"priority","message":"12 is outside 0-10"},)"
        R"({"field":"tool","message":"is required"}]})");
}

TEST_CASE("a status without a problem type of its own is about:blank", "[problem]") {
  const auto p = make_problem(418, "teapot");
  CHECK(p.at("type") == "about:blank");
  CHECK(p.at("title") == "HTTP 418");
  CHECK(p.at("status") == 418);
}
