// One answer names every bad field: the reader's errors (types, ranges) and
// the engine's (params, labels, retry bounds) together, and nothing is stored.
#include <set>

#include <catch2/catch.hpp>

#include "support/daemon.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
namespace json = boost::json;

namespace {

std::set<std::string> fields_of(const http_reply& r) {
  std::set<std::string> out;
  const auto doc = r.json();  // kept: a range-for over a temporary's member would dangle
  for (auto& e : doc.at("errors").as_array()) out.insert(str(e, "field"));
  return out;
}

}  // namespace

TEST_CASE("spec and params errors come back together in one 400", "[http][validation]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};

  auto r = c.request("POST", "/v1/jobs", R"({"tool":"sleep","priority":11,"ttl_hours":0,"params":{"seconds":-1}})");
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) == std::set<std::string>{"priority", "ttl_hours", "params.seconds"});

  // An unknown param and an unknown spec field, with a misspelt label count.
  json::object labels;
  for (int i = 0; i < 65; ++i) labels["k" + std::to_string(i)] = "v";
  json::object spec{{"tool", "sleep"}, {"prority", 3}, {"params", {{"secnds", 1}}}, {"labels", labels}};
  r = c.post("/v1/jobs", spec);
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) == std::set<std::string>{"prority", "params.secnds", "labels"});

  // Each job of a batch, reader and engine errors alike.
  r = c.request("POST", "/v1/batches",
                R"({"jobs":[{"tool":"sleep","priority":"x","params":{"seconds":-2}},{"tool":"noop"},)"
                R"({"tool":"sleep","retry":{"max_backoff_ms":9000000000000}}]})");
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) ==
        std::set<std::string>{"jobs[0].priority", "jobs[0].params.seconds", "jobs[2].retry.max_backoff_ms"});
  CHECK(c.get("/v1/jobs").json().at("total_count").as_int64() == 0);
}

TEST_CASE("a bad query names its fields beside a body that cannot be read, and every paging field", "[http][validation]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  // ?wait= is read before the body: a body that is not JSON, repeats a key
  // or is not JSON at all must not hide it.
  auto r = c.request("POST", "/v1/jobs?wait=soon", "{not json");
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) == std::set<std::string>{"wait", "body"});
  r = c.request("POST", "/v1/jobs?wait=soon", R"({"tool":"noop","tool":"sleep"})");
  REQUIRE(r.status == 400);
  CHECK(fields_of(r).contains("wait"));
  r = c.request("POST", "/v1/jobs?wait=soon", R"({"tool":"noop"})", "text/plain");
  REQUIRE(r.status == 415);
  CHECK(fields_of(r) == std::set<std::string>{"wait"});
  // Both paging styles at once: limit and offset are read too.
  r = c.get("/v1/jobs?offset=99999999999999999999&limit=-5&page=abc");
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) == std::set<std::string>{"page", "limit", "offset"});
  CHECK(c.get("/v1/jobs").json().at("total_count").as_int64() == 0);
}

TEST_CASE("a repeated query key is named beside the request's other bad fields", "[http][validation]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  // Which of two values was meant cannot be known, but that is no reason to
  // keep the rest of the request's faults for the next attempt.
  auto r = c.request("POST", "/v1/jobs?wait=1s&wait=2s", R"({"tool":"noop","prority":3})");
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) == std::set<std::string>{"wait", "prority"});
  r = c.get("/v1/jobs?limit=1&limit=2&status=bogus&colour=red");
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) == std::set<std::string>{"limit", "status", "colour"});
  r = c.request("POST", "/v1/jobs/cancel?tool=a&tool=b&status=bogus", "");
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) == std::set<std::string>{"tool", "status"});
  r = c.get("/v1/jobs/job_01M880PHE1F1GN54T6TES72772/logs?level=loud&level=info&limit=0");
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) == std::set<std::string>{"level", "limit"});
  // An endpoint without parameters names the repeated key and every other.
  r = c.request("POST", "/v1/tools/noop/pause?a=1&a=2&b=3", "");
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) == std::set<std::string>{"a", "b"});
  CHECK(c.get("/v1/health").json().at("components").at("tools").at("noop").at("status") != "paused");
  // An upload: its name is required, beside the repeated key.
  r = c.request("POST", "/v1/files?x=1&x=2", "data", "application/octet-stream");
  INFO(r.body);
  REQUIRE(r.status == 400);
  CHECK(fields_of(r) == std::set<std::string>{"x", "name"});
  CHECK(c.get("/v1/jobs").json().at("total_count").as_int64() == 0);
}

TEST_CASE("retry backoffs are bounded, so no schedule can overflow the clock", "[http][validation]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  for (const char* field : {"initial_backoff_ms", "max_backoff_ms"}) {
    json::object retry{{"max_attempts", 2}, {field, 9'000'000'000'000'000}};
    if (std::string{field} == "initial_backoff_ms") retry["max_backoff_ms"] = 9'000'000'000'000'000;
    auto r = c.post("/v1/jobs", json::object{{"tool", "fail"}, {"retry", retry}});
    INFO(r.body);
    REQUIRE(r.status == 400);
    CHECK(fields_of(r).contains(std::string{"retry."} + field));
  }
  // A week is the longest backoff; a job with it is accepted.
  auto ok = c.post("/v1/jobs", json::object{{"tool", "noop"},
                                            {"retry", {{"initial_backoff_ms", 604'800'000}, {"max_backoff_ms", 604'800'000}}}});
  INFO(ok.body);
  CHECK(ok.status == 202);
}
