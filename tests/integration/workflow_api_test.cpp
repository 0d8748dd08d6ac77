// Batches, the result cache, idempotency, dependencies and delays over the
// real HTTP API.
#include <set>

#include <catch2/catch.hpp>

#include "support/daemon.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
namespace json = boost::json;

TEST_CASE("batches are submitted, watched, counted and cancelled over HTTP", "[http][batch]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto r = c.post("/v1/batches", json::parse(R"({"name":"nightly","parallel_limit":1,"fail_fast":false,
      "jobs":[{"tool":"sleep","params":{"seconds":30}},{"tool":"noop"},{"tool":"noop"}]})"));
  REQUIRE(r.status == 202);
  const auto batch = str(r.json(), "batch_id");
  CHECK(batch.starts_with("batch_"));
  auto ids = r.json().at("job_ids").as_array();
  REQUIRE(ids.size() == 3);
  const auto first = std::string{ids[0].as_string()};

  ws_client ws{d.port(), "/v1/stream?batch=" + batch};
  REQUIRE(ws.until([&](auto& m) { return m.at("type").as_string() == "subscribed"; }));
  await_status(c, first, "running");
  auto view = c.get("/v1/batches/" + batch).json().as_object();
  CHECK(str(view, "batch_status") == "running");
  CHECK(view.at("counts").at("running").as_int64() == 1);
  CHECK(view.at("counts").at("pending").as_int64() == 2);  // the limit holds them back
  CHECK(view.at("jobs").as_array().size() == 3);
  CHECK(str(c.get("/v1/jobs/" + first).json(), "batch_id") == batch);
  CHECK(c.get("/v1/jobs?batch_id=" + batch).json().at("total_count").as_int64() == 3);

  auto cancel = c.del("/v1/batches/" + batch);
  REQUIRE(cancel.status == 200);
  for (auto& id : ids) CHECK(str(await_status(c, std::string{id.as_string()}), "status") == "cancelled");
  CHECK(str(c.get("/v1/batches/" + batch).json(), "batch_status") == "cancelled");
  CHECK(c.del("/v1/batches/" + batch).status == 409);
  // The batch subscription saw its jobs' transitions, and only those.
  std::set<std::string> cancelled;
  REQUIRE(ws.until([&](auto& m) {
    if (m.at("type").as_string() == "transition") {
      CHECK(str(m, "batch_id") == batch);
      if (m.at("to").as_string() == "cancelled") cancelled.insert(str(m, "job_id"));
    }
    return cancelled.size() == 3;
  }));

  CHECK(c.get("/v1/batches/batch_00000000000000000000000000").status == 404);
  CHECK(c.del("/v1/batches/batch_00000000000000000000000000").status == 404);
  auto bad = c.post("/v1/batches", json::parse(R"({"jobs":[{"tool":"noop"},{"tool":"noop","priority":11}]})"));
  REQUIRE(bad.status == 400);
  CHECK(str(bad.json().at("errors").as_array()[0], "field") == "jobs[1].priority");
  CHECK(c.post("/v1/batches", json::parse(R"({"name":"x"})")).status == 400);
  CHECK(c.post("/v1/batches", json::parse(R"({"jobs":[]})")).status == 400);
}

TEST_CASE("an idempotent repeat answers 200 with the job, a different spec 409", "[http][idempotency]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto first = c.post("/v1/jobs", json::parse(R"({"tool":"noop","idempotency_key":"sample-42"})"));
  REQUIRE(first.status == 202);
  auto again = c.post("/v1/jobs", json::parse(R"({"tool":"noop","idempotency_key":"sample-42"})"));
  REQUIRE(again.status == 200);
  CHECK(str(again.json(), "job_id") == str(first.json(), "job_id"));
  auto other = c.post("/v1/jobs", json::parse(R"({"tool":"noop","priority":9,"idempotency_key":"sample-42"})"));
  CHECK(other.status == 409);
  CHECK(c.get("/v1/jobs").json().at("total_count").as_int64() == 1);
}

TEST_CASE("a cache hit is a new job created completed, and the cache can be inspected and cleared", "[http][cache]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto first = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":0.1,"steps":1},"use_cache":true})"));
  await_status(c, first);
  auto hit = c.post("/v1/jobs", json::parse(R"({"tool":"sleep","params":{"steps":1,"seconds":0.1},"use_cache":true})"));
  REQUIRE(hit.status == 202);
  CHECK(str(hit.json(), "status") == "completed");
  auto view = c.get("/v1/jobs/" + str(hit.json(), "job_id")).json().as_object();
  CHECK(str(view, "status") == "completed");
  CHECK(str(view.at("cache_info"), "source_job_id") == first);
  CHECK(view.at("result").at("steps").as_int64() == 1);

  auto stats = c.get("/v1/cache/stats").json().as_object();
  CHECK(stats.at("total_cached_results").as_int64() == 1);
  CHECK(stats.at("cache_hit_rate").to_number<double>() > 0);
  CHECK(stats.contains("total_cache_size_mb"));
  CHECK(stats.at("oldest_cached_result").is_string());

  CHECK(c.del("/v1/cache").status == 400);
  CHECK(c.del("/v1/cache?confirm=yes").status == 400);
  auto cleared = c.del("/v1/cache?confirm=true&tool=sleep");
  REQUIRE(cleared.status == 200);
  CHECK(cleared.json().at("cleared_results").as_int64() == 1);
  CHECK(c.get("/v1/cache/stats").json().at("total_cached_results").as_int64() == 0);
}

TEST_CASE("dependencies and delays over HTTP", "[http][deps]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto head = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":0.5,"steps":1}})"));
  auto tail = submit(c, json::value{{"tool", "noop"}, {"depends_on", json::array{json::value(head)}}});
  auto waiting = c.get("/v1/jobs/" + tail).json().as_object();
  CHECK(str(waiting, "status") == "pending");
  CHECK(waiting.at("waiting_on").as_array().size() == 1);
  CHECK(str(await_status(c, tail), "status") == "completed");

  auto unknown = c.post("/v1/jobs", json::parse(R"({"tool":"noop","depends_on":["job_00000000000000000000000000"]})"));
  REQUIRE(unknown.status == 400);
  CHECK(str(unknown.json().at("errors").as_array()[0], "field") == "depends_on[0]");

  auto delayed = submit(c, json::parse(R"({"tool":"noop","delay_s":1})"));
  auto v = c.get("/v1/jobs/" + delayed).json().as_object();
  CHECK(str(v, "status") == "pending");
  CHECK(v.contains("run_at"));
  CHECK(str(await_status(c, delayed), "status") == "completed");
  CHECK(c.post("/v1/jobs", json::parse(R"({"tool":"noop","run_at":"tomorrow"})")).status == 400);
}
