// Every client mistake gets a clear 4xx problem document and changes nothing.
#include <catch2/catch.hpp>

#include "support/daemon.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
namespace json = boost::json;

namespace {

/// Asserts a problem+json answer with `status`, naming `field` when given.
void require_problem(const http_reply& r, unsigned status, const std::string& field = {}) {
  INFO("body: " << r.body);
  REQUIRE(r.status == status);
  CHECK(r.content_type == "application/problem+json");
  auto doc = r.json().as_object();
  CHECK(doc.at("status").as_int64() == status);
  CHECK(doc.contains("title"));
  CHECK(doc.contains("type"));
  CHECK(doc.contains("detail"));
  if (field.empty()) return;
  bool named = false;
  for (auto& e : doc.at("errors").as_array())
    if (str(e, "field") == field) named = true;
  CHECK(named);
}

}  // namespace

TEST_CASE("invalid submits are refused with the field named, and store nothing", "[http][errors]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--body-limit", "4096"}};
  http_client c{d.port()};
  auto [body, field] = GENERATE(table<std::string, std::string>({
    {R"({"tool":"slep"})", "tool"},
    {R"({})", "tool"},
    {R"({"tool":"sleep","priority":11})", "priority"},
    {R"({"tool":"sleep","priority":-1})", "priority"},
    {R"({"tool":"sleep","priority":"high"})", "priority"},
    {R"({"tool":"sleep","ttl_hours":0})", "ttl_hours"},
    {R"({"tool":"sleep","ttl_hours":169})", "ttl_hours"},
    {R"({"tool":"sleep","params":{"seconds":"soon"}})", "params.seconds"},
    {R"({"tool":"sleep","params":{"secnds":1}})", "params.secnds"},
    {R"({"tool":"sleep","params":[1]})", "params"},
    {R"({"tool":"sleep","labels":{"a":1}})", "labels.a"},
    {R"({"tool":"sleep","timeout_s":0})", "timeout_s"},
    {R"({"tool":"sleep","retry":{"max_attempts":0}})", "retry.max_attempts"},
    {R"({"tool":"sleep","priorty":1})", "priorty"},
    {R"({"tool":7})", "tool"},
    {R"([1,2])", "body"},
    {R"({"tool":"sleep",)", "body"},
  }));
  INFO("body " << body);
  require_problem(c.request("POST", "/v1/jobs", body), 400, field);
  CHECK(c.get("/v1/jobs").json().at("total_count").as_int64() == 0);
}

TEST_CASE("wrong content type, oversize body, unknown ids, routes and methods", "[http][errors]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--body-limit", "4096"}};
  http_client c{d.port()};
  require_problem(c.request("POST", "/v1/jobs", R"({"tool":"noop"})", "text/plain"), 415);
  require_problem(c.request("POST", "/v1/jobs", std::string(8192, ' ')), 413);
  const std::string ghost = "job_01M880PHE1F1GN54T6TES72772";
  for (auto target : {"/v1/jobs/" + ghost, "/v1/jobs/" + ghost + "/result", "/v1/jobs/" + ghost + "/logs",
                      "/v1/jobs/" + ghost + "/history", std::string{"/v1/jobs/not-an-id"}})
    require_problem(c.get(target), 404);
  require_problem(c.del("/v1/jobs/" + ghost), 404);
  require_problem(c.post("/v1/jobs/" + ghost + "/retry", json::object{}), 404);
  require_problem(c.post("/v1/jobs/" + ghost + "/cancel", json::object{}), 404);
  require_problem(c.get("/v1/nothing"), 404);
  require_problem(c.get("/index.php"), 404);
  auto put = c.request("PUT", "/v1/jobs");
  require_problem(put, 405);
  CHECK(put.headers.at("Allow").find("POST") != std::string::npos);
  require_problem(c.request("PATCH", "/v1/jobs/" + ghost), 405);
  require_problem(c.get("/v1/stream"), 426);
  CHECK(c.get("/v1/jobs").json().at("total_count").as_int64() == 0);
  // An encoded slash is a character of its segment, not a separator: these
  // name no route (a proxy's rule for /v1/tools/*/pause sees what we route).
  require_problem(c.post("/v1/tools/noop%2Fpause", json::object{}), 404);
  require_problem(c.get("/v1%2Fhealth"), 404);
  require_problem(c.get("/v1/jobs%2F" + ghost), 404);
  const auto tools = c.get("/v1/tools").json();
  CHECK(tools.at("tools").as_array().size() > 0);
  for (const auto& t : tools.at("tools").as_array()) CHECK(t.at("paused") == false);
  // Other encoded characters are what they encode.
  CHECK(c.get("/v1/%68ealth").status == 200);
}

TEST_CASE("out-of-range and unknown query values are 400, not clamped", "[http][errors]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  for (auto [target, field] : std::vector<std::pair<std::string, std::string>>{
         {"/v1/jobs?limit=0", "limit"},
         {"/v1/jobs?limit=1001", "limit"},
         {"/v1/jobs?limit=ten", "limit"},
         {"/v1/jobs?offset=-5", "offset"},
         {"/v1/jobs?page=0", "page"},
         {"/v1/jobs?page_size=5000", "page_size"},
         {"/v1/jobs?status=sleeping", "status"},
         {"/v1/jobs?created_after=yesterday", "created_after"},
         {"/v1/jobs?limt=5", "limt"},
         {"/v1/jobs?page=1&limit=5", "page"},
       }) {
    INFO(target);
    require_problem(c.get(target), 400, field);
  }
}

TEST_CASE("malformed HTTP gets a 400, and the daemon keeps serving", "[http][errors]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  {
    http_client bad{d.port()};
    auto r = bad.raw("THIS IS NOT HTTP\r\n\r\n");
    CHECK(r.status == 400);
  }
  http_client c{d.port()};
  CHECK(c.get("/v1/health").status == 200);
}

TEST_CASE("bearer tokens guard every route but health", "[http][auth]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--token", "s3cret"}};
  http_client c{d.port()};
  require_problem(c.get("/v1/jobs"), 401);
  CHECK(c.request("GET", "/v1/jobs", {}, {}, {{"Authorization", "Bearer wrong"}}).status == 401);
  CHECK(c.request("GET", "/v1/jobs", {}, {}, {{"Authorization", "Bearer s3cret"}}).status == 200);
  // The scheme is case-insensitive (RFC 9110 11.1); the token is not.
  CHECK(c.request("GET", "/v1/jobs", {}, {}, {{"Authorization", "bearer s3cret"}}).status == 200);
  CHECK(c.request("GET", "/v1/jobs", {}, {}, {{"Authorization", "BEARER s3cret"}}).status == 200);
  CHECK(c.request("GET", "/v1/jobs", {}, {}, {{"Authorization", "Bearer S3CRET"}}).status == 401);
  CHECK(c.request("GET", "/v1/jobs", {}, {}, {{"Authorization", "Bearer"}}).status == 401);
  CHECK(c.get("/v1/health").status == 200);
  // The stream too: no token, no upgrade; the header or ?access_token= opens it.
  CHECK_THROWS(ws_client{d.port(), "/v1/stream?all=1"});
  ws_client ok{d.port(), "/v1/stream?all=1&access_token=s3cret"};
  CHECK(ok.until([](auto& m) { return m.at("type").as_string() == "subscribed"; }));
}
