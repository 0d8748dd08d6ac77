// An operator's actions on the real overseerd: the OpenAPI document it
// serves, the list of batches, and cancelling or purging every job that
// matches a filter, with a dry run.
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/daemon.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
namespace json = boost::json;

namespace {

/// The `field` of every error of a problem document, in order.
std::vector<std::string> error_fields(const http_reply& r) {
  std::vector<std::string> out;
  const auto doc = r.json();
  for (const auto& e : doc.at("errors").as_array()) out.push_back(str(e, "field"));
  return out;
}

std::vector<std::string> batch_names(const json::value& page) {
  std::vector<std::string> out;
  for (const auto& b : page.at("batches").as_array()) out.push_back(str(b, "name"));
  return out;
}

std::string submit_batch(http_client& c, const std::string& name, const std::string& jobs) {
  auto r = c.post("/v1/batches", json::parse(R"({"name":")" + name + R"(","jobs":)" + jobs + "}"));
  REQUIRE(r.status == 202);
  return str(r.json(), "batch_id");
}

std::int64_t count(const http_reply& r, const char* key) { return r.json().at(key).as_int64(); }

}  // namespace

TEST_CASE("GET /v1/openapi.yaml serves the OpenAPI document the daemon was built with", "[http][openapi]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto r = c.get("/v1/openapi.yaml");
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "application/yaml");
  CHECK(r.body.starts_with("openapi: 3.1.0\n"));
  CHECK(r.body.find("\n  /v1/openapi.yaml:\n") != std::string::npos);  // it lists itself
  CHECK(r.body.find("\n  /v1/batches:\n") != std::string::npos);
  CHECK(c.get("/v1/openapi.yaml?x=1").status == 400);
  CHECK(c.post("/v1/openapi.yaml", json::object{}).status == 405);
}

TEST_CASE("GET /v1/batches lists batches newest first, filtered and paged", "[http][batch][list]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const auto a = submit_batch(c, "alpha", R"([{"tool":"noop"}])");
  const auto b = submit_batch(c, "beta", R"([{"tool":"noop"},{"tool":"noop"}])");
  const auto slow = submit_batch(c, "gamma", R"([{"tool":"sleep","params":{"seconds":30}},{"tool":"noop"}])");
  for (const auto& batch : {a, b}) {
    const auto view = c.get("/v1/batches/" + batch).json();
    for (const auto& j : view.at("jobs").as_array()) await_status(c, str(j, "job_id"));
  }
  REQUIRE(c.del("/v1/batches/" + slow).status == 200);

  auto all = c.get("/v1/batches");
  REQUIRE(all.status == 200);
  CHECK(batch_names(all.json()) == std::vector<std::string>{"gamma", "beta", "alpha"});
  CHECK(count(all, "total_count") == 3);
  CHECK(all.json().at("has_next") == false);
  const auto listed = all.json();
  const auto& beta = listed.at("batches").as_array()[1].as_object();
  CHECK(str(beta, "batch_id") == b);
  CHECK(str(beta, "batch_status") == "completed");
  CHECK(beta.at("total_jobs").as_int64() == 2);
  CHECK(beta.at("counts").at("completed").as_int64() == 2);
  CHECK_FALSE(beta.contains("jobs"));  // a page stays small; GET /v1/batches/{id} has them

  auto page = c.get("/v1/batches?limit=1&offset=1");
  REQUIRE(page.status == 200);
  CHECK(batch_names(page.json()) == std::vector<std::string>{"beta"});
  CHECK(count(page, "total_count") == 3);
  CHECK(page.json().at("has_next") == true);
  CHECK(batch_names(c.get("/v1/batches?status=cancelled").json()) == std::vector<std::string>{"gamma"});
  CHECK(batch_names(c.get("/v1/batches?status=completed&limit=1").json()) == std::vector<std::string>{"beta"});
  CHECK(count(c.get("/v1/batches?status=completed&limit=1"), "total_count") == 2);
  CHECK(batch_names(c.get("/v1/batches?name=alpha").json()) == std::vector<std::string>{"alpha"});
  CHECK(count(c.get("/v1/batches?created_before=2000-01-01T00:00:00Z"), "total_count") == 0);
  CHECK(count(c.get("/v1/batches?created_after=2000-01-01T00:00:00Z"), "total_count") == 3);

  auto bad = c.get("/v1/batches?status=done&limit=0&created_after=yesterday&colour=red");
  REQUIRE(bad.status == 400);
  CHECK(error_fields(bad) == std::vector<std::string>{"colour", "status", "created_after", "limit"});
}

TEST_CASE("POST /v1/jobs/cancel cancels every unfinished job that matches, after a dry run", "[http][bulk]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  // The finished one first: the sleeps may take every slot.
  const auto done = submit(c, json::parse(R"({"tool":"noop","labels":{"team":"x"}})"));
  await_status(c, done);
  std::vector<std::string> slow;
  for (int i = 0; i < 3; ++i)
    slow.push_back(submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30},"labels":{"team":"x"}})")));
  const auto other = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30},"labels":{"team":"y"}})"));

  auto dry = c.post("/v1/jobs/cancel?label.team=x&dry_run=true", json::object{});
  REQUIRE(dry.status == 200);
  CHECK(count(dry, "matched") == 3);  // the finished one does not count
  CHECK(count(dry, "cancelled") == 0);
  CHECK(dry.json().at("dry_run") == true);
  for (const auto& id : slow) CHECK(str(c.get("/v1/jobs/" + id).json(), "status") != "cancelled");

  // A bad reason is named with the other bad fields, and cancels nothing.
  auto bad_reason = c.post("/v1/jobs/cancel", json::parse(R"({"labels":{"team":"x"},"reason":7,"dry_rn":true})"));
  REQUIRE(bad_reason.status == 400);
  CHECK(error_fields(bad_reason) == std::vector<std::string>{"reason", "dry_rn"});
  CHECK(c.post("/v1/jobs/cancel?label.team=x&reason=", json::object{}).status == 400);
  for (const auto& id : slow) CHECK(str(c.get("/v1/jobs/" + id).json(), "status") != "cancelled");

  auto real = c.post("/v1/jobs/cancel", json::parse(R"({"labels":{"team":"x"},"tool":"sleep","reason":"wrong panel"})"));
  REQUIRE(real.status == 200);
  CHECK(count(real, "matched") == 3);
  CHECK(count(real, "cancelled") == 3);
  CHECK(real.json().at("dry_run") == false);
  // Answered once durable: every one reads cancelled now, with the reason.
  for (const auto& id : slow) {
    CHECK(str(c.get("/v1/jobs/" + id).json(), "status") == "cancelled");
    const auto history = c.get("/v1/jobs/" + id + "/history").json();
    CHECK(str(history.at("transitions").as_array().back(), "reason") == "cancelled by client 127.0.0.1: wrong panel");
  }
  CHECK(str(c.get("/v1/jobs/" + done).json(), "status") == "completed");
  CHECK(str(c.get("/v1/jobs/" + other).json(), "status") != "cancelled");
  CHECK(count(c.post("/v1/jobs/cancel?label.team=x", json::object{}), "matched") == 0);
  CHECK(count(c.post("/v1/jobs/cancel?status=completed", json::object{}), "matched") == 0);

  auto none = c.post("/v1/jobs/cancel", json::object{});
  REQUIRE(none.status == 400);
  CHECK(error_fields(none) == std::vector<std::string>{"all"});
  auto bad = c.post("/v1/jobs/cancel?status=finished&dry_run=maybe&colour=red", json::object{});
  REQUIRE(bad.status == 400);
  CHECK(error_fields(bad) == std::vector<std::string>{"colour", "status", "dry_run"});
  auto both = c.post("/v1/jobs/cancel?tool=sleep", json::parse(R"({"tool":"sleep"})"));
  REQUIRE(both.status == 400);
  CHECK(error_fields(both) == std::vector<std::string>{"body"});
  auto typed = c.post("/v1/jobs/cancel", json::parse(R"({"tool":7,"dry_run":"yes","labels":{"a":1}})"));
  REQUIRE(typed.status == 400);
  CHECK(error_fields(typed).size() == 3);

  auto everything = c.post("/v1/jobs/cancel?all=true", json::object{});
  REQUIRE(everything.status == 200);
  CHECK(count(everything, "cancelled") == 1);
  CHECK(str(c.get("/v1/jobs/" + other).json(), "status") == "cancelled");
}

TEST_CASE("jobs are found, cancelled and purged by a part of their name", "[http][bulk][list]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const auto done = submit(c, json::parse(R"({"tool":"noop","name":"annotate Sample 16"})"));
  await_status(c, done);
  const auto a = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30},"name":"Annotate SAMPLE 17"})"));
  const auto b = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30},"name":"convert sample 18"})"));
  const auto other = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30},"name":"annotate 19"})"));
  const auto ids = [&](const std::string& query) {
    std::set<std::string> out;
    const auto page = c.get("/v1/jobs?" + query).json();  // held: the loop reads into it
    for (const auto& j : page.at("jobs").as_array()) out.insert(str(j, "job_id"));
    return out;
  };
  CHECK(ids("name_contains=sample") == std::set<std::string>{done, a, b});
  CHECK(ids("name_contains=ANNOTATE%20sample") == std::set<std::string>{done, a});
  CHECK(ids("name_contains=sample&tool=sleep") == std::set<std::string>{a, b});
  CHECK(ids("name_contains=nothing").empty());
  // Empty, too long, repeated: each named in one 400.
  auto bad = c.get("/v1/jobs?name_contains=&status=nope");
  REQUIRE(bad.status == 400);
  CHECK(error_fields(bad) == std::vector<std::string>{"status", "name_contains"});
  bad = c.get("/v1/jobs?name_contains=" + std::string(257, 'x'));
  REQUIRE(bad.status == 400);
  CHECK(bad.body.find("expected 1-256 characters, found 257") != std::string::npos);
  CHECK(c.get("/v1/jobs?name_contains=a&name_contains=b").status == 400);

  // A name is a filter of its own for a bulk change, in the query or the body.
  auto dry = c.post("/v1/jobs/cancel?name_contains=SAMPLE&dry_run=true", json::object{});
  REQUIRE(dry.status == 200);
  CHECK(count(dry, "matched") == 2);  // the finished one is not cancellable
  auto typed = c.post("/v1/jobs/cancel", json::parse(R"({"name_contains":17,"trace_id":5})"));
  REQUIRE(typed.status == 400);
  CHECK(error_fields(typed) == std::vector<std::string>{"name_contains", "trace_id"});
  CHECK(typed.body.find("must be a string") != std::string::npos);
  auto real = c.post("/v1/jobs/cancel", json::parse(R"({"name_contains":"sample","reason":"wrong panel"})"));
  REQUIRE(real.status == 200);
  CHECK(count(real, "cancelled") == 2);
  CHECK(str(c.get("/v1/jobs/" + a).json(), "status") == "cancelled");
  CHECK(str(c.get("/v1/jobs/" + b).json(), "status") == "cancelled");
  CHECK(str(c.get("/v1/jobs/" + other).json(), "status") != "cancelled");
  auto purged = c.post("/v1/jobs/purge?name_contains=Sample%2016", json::object{});
  REQUIRE(purged.status == 200);
  CHECK(count(purged, "deleted") == 1);
  CHECK(c.get("/v1/jobs/" + done).status == 404);
  CHECK(c.post("/v1/jobs/cancel?all=true", json::object{}).status == 200);
}

TEST_CASE("POST /v1/jobs/purge deletes finished jobs that match, never an unfinished one", "[http][bulk]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  std::vector<std::string> finished;
  for (int i = 0; i < 3; ++i) finished.push_back(submit(c, json::parse(R"({"tool":"noop","labels":{"team":"x"}})")));
  for (const auto& id : finished) await_status(c, id);
  const auto kept = submit(c, json::parse(R"({"tool":"noop","labels":{"team":"y"}})"));
  await_status(c, kept);
  const auto running = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30},"labels":{"team":"x"}})"));

  auto dry = c.post("/v1/jobs/purge", json::parse(R"({"labels":{"team":"x"},"dry_run":true})"));
  REQUIRE(dry.status == 200);
  CHECK(count(dry, "matched") == 3);
  CHECK(count(dry, "deleted") == 0);
  for (const auto& id : finished) CHECK(c.get("/v1/jobs/" + id).status == 200);

  auto real = c.post("/v1/jobs/purge?label.team=x", json::object{});
  REQUIRE(real.status == 200);
  CHECK(count(real, "matched") == 3);
  CHECK(count(real, "deleted") == 3);
  for (const auto& id : finished) {
    CHECK(c.get("/v1/jobs/" + id).status == 404);
    CHECK(c.get("/v1/jobs/" + id + "/history").status == 404);
  }
  CHECK(c.get("/v1/jobs/" + kept).status == 200);
  CHECK(c.get("/v1/jobs/" + running).status == 200);
  CHECK(count(c.get("/v1/jobs?label.team=x"), "total_count") == 1);
  CHECK(count(c.post("/v1/jobs/purge?status=running", json::object{}), "matched") == 0);
  CHECK(c.get("/v1/jobs/" + running).status == 200);

  CHECK(c.post("/v1/jobs/purge", json::object{}).status == 400);
  // A purge records no reason: the key is unknown there.
  auto reasoned = c.post("/v1/jobs/purge?label.team=y&reason=old", json::object{});
  REQUIRE(reasoned.status == 400);
  CHECK(error_fields(reasoned) == std::vector<std::string>{"reason"});
  auto bad = c.post("/v1/jobs/purge?created_after=soon", json::object{});
  REQUIRE(bad.status == 400);
  CHECK(error_fields(bad) == std::vector<std::string>{"created_after"});
  auto everything = c.post("/v1/jobs/purge?all=true", json::object{});
  CHECK(count(everything, "deleted") == 1);  // `kept`; the running job stays
  CHECK(count(c.get("/v1/jobs"), "total_count") == 1);
}
