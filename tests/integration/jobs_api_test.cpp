// The REST API of the real overseerd, over real HTTP on loopback.
#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

#include "support/daemon.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
namespace json = boost::json;

TEST_CASE("a submitted sleep job can be polled to completion with its result, logs and history", "[http][jobs]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto r = c.post("/v1/jobs", json::parse(R"({"tool":"sleep","params":{"seconds":0.4,"steps":2},
      "name":"nap","priority":7,"labels":{"country":"Kenya"}})"));
  REQUIRE(r.status == 202);
  auto body = r.json().as_object();
  const auto id = str(body, "job_id");
  CHECK(id.starts_with("job_"));
  CHECK(str(body, "status") == "pending");
  CHECK(body.at("position_in_queue").as_int64() == 0);
  CHECK(str(body.at("links"), "self") == "/v1/jobs/" + id);

  auto view = await_status(c, id);
  CHECK(str(view, "status") == "completed");
  CHECK(str(view, "job_id") == id);
  CHECK(str(view, "name") == "nap");
  CHECK(view.at("priority").as_int64() == 7);
  CHECK(str(view.at("labels"), "country") == "Kenya");
  CHECK(view.at("attempt").as_int64() == 1);
  CHECK(view.at("progress").at("percent").to_number<double>() == Approx(100));
  CHECK(view.at("result").at("steps").as_int64() == 2);
  CHECK(view.contains("duration_ms"));
  CHECK(str(view, "created_at").ends_with("Z"));
  CHECK(view.contains("completed_at"));

  auto result = c.get("/v1/jobs/" + id + "/result");
  REQUIRE(result.status == 200);
  CHECK(result.json().at("result").at("steps").as_int64() == 2);

  auto history = c.get("/v1/jobs/" + id + "/history").json().as_object();
  auto& ts = history.at("transitions").as_array();
  REQUIRE(ts.size() == 3);
  CHECK(ts[0].at("from").is_null());
  CHECK(str(ts[0], "to") == "pending");
  CHECK(str(ts[1], "to") == "running");
  CHECK(str(ts[2], "to") == "completed");

  auto logs = c.get("/v1/jobs/" + id + "/logs").json().as_object();
  CHECK(str(logs, "job_id") == id);
  CHECK(logs.at("total").as_int64() >= 0);
}

TEST_CASE("logs are filtered by level and paginated", "[http][logs]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  // fasta_stats logs at info at its start and end; a missing file fails it.
  auto id = submit(c, json::parse(R"({"tool":"fasta_stats","params":{"path":"/nonexistent.fa"}})"));
  CHECK(str(await_status(c, id), "status") == "failed");
  auto all = c.get("/v1/jobs/" + id + "/logs?level=debug&limit=1000").json().as_object();
  auto errors_only = c.get("/v1/jobs/" + id + "/logs?level=critical").json().as_object();
  CHECK(errors_only.at("total").as_int64() <= all.at("total").as_int64());
  auto page = c.get("/v1/jobs/" + id + "/logs?limit=1&offset=0").json().as_object();
  CHECK(page.at("logs").as_array().size() <= 1);
  CHECK(c.get("/v1/jobs/" + id + "/logs?level=loud").status == 400);
  CHECK(c.get("/v1/jobs/" + id + "/logs?limit=0").status == 400);
  CHECK(c.get("/v1/jobs/" + id + "/logs?limit=1001").status == 400);
  CHECK(c.get("/v1/jobs/" + id + "/logs?offset=-1").status == 400);
}

TEST_CASE("a running job is cancelled over HTTP, and cancel and retry answer conflicts", "[http][cancel]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto id = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":60,"steps":60}})"));
  CHECK(str(await_status(c, id, "running"), "status") == "running");
  auto r = c.del("/v1/jobs/" + id);
  REQUIRE(r.status == 200);
  CHECK(str(r.json(), "status") == "cancelled");
  CHECK(c.del("/v1/jobs/" + id).status == 409);
  CHECK(c.post("/v1/jobs/" + id + "/cancel", json::object{}).status == 409);
  CHECK(c.get("/v1/jobs/" + id + "/result").status == 409);

  // POST .../cancel works the same on a pending job.
  auto slow = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":60,"steps":60}})"));
  auto p = c.request("POST", "/v1/jobs/" + slow + "/cancel");
  CHECK(p.status == 200);

  // An explicit retry re-queues the cancelled job as a new attempt.
  auto retry = c.post("/v1/jobs/" + id + "/retry", json::object{});
  REQUIRE(retry.status == 202);
  CHECK(str(retry.json(), "status") == "pending");
  CHECK(retry.json().at("attempts_counted").as_int64() == 0);  // a fresh budget
  const auto rerun = await_status(c, id, "running");
  CHECK(str(rerun, "status") == "running");
  CHECK(rerun.at("attempt").as_int64() == 2);
  CHECK(rerun.at("attempts_counted").as_int64() == 1);
  CHECK(c.del("/v1/jobs/" + id).status == 200);

  // Who asked is in the history and in the job's log: the client's address.
  std::vector<std::string> reasons;
  const auto history = c.get("/v1/jobs/" + id + "/history").json();  // held: the loop reads into it
  for (const auto& t : history.at("transitions").as_array()) reasons.push_back(str(t, "reason"));
  CHECK(std::count(reasons.begin(), reasons.end(), "cancelled by client 127.0.0.1") == 2);
  CHECK(std::count(reasons.begin(), reasons.end(), "retried by client 127.0.0.1") == 1);
  std::vector<std::string> lines;
  const auto logs = c.get("/v1/jobs/" + id + "/logs").json();
  for (const auto& l : logs.at("logs").as_array())
    if (l.at("component") == "engine") lines.push_back(str(l, "message"));
  CHECK(std::count(lines.begin(), lines.end(), "cancelled by client 127.0.0.1; attempt 1 is told to stop") == 1);
  CHECK(std::count(lines.begin(), lines.end(), "cancelled by client 127.0.0.1; attempt 2 is told to stop") == 1);

  auto done = submit(c, json::parse(R"({"tool":"noop"})"));
  CHECK(str(await_status(c, done), "status") == "completed");
  CHECK(c.post("/v1/jobs/" + done + "/retry", json::object{}).status == 409);
}

TEST_CASE("cancel, retry and a batch's cancel take the operator's reason, and a bad body changes nothing",
          "[http][cancel]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const auto id = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":60,"steps":60}})"));
  CHECK(str(await_status(c, id, "running"), "status") == "running");
  // Refused on every route that takes a reason, naming each bad field; the job runs on.
  auto r = c.request("POST", "/v1/jobs/" + id + "/cancel", R"({"reason": "", "why": 1})");
  REQUIRE(r.status == 400);
  const auto problem = r.json();
  CHECK(str(problem, "detail") == "the cancel is invalid");
  REQUIRE(problem.at("errors").as_array().size() == 2);
  CHECK(c.request("DELETE", "/v1/jobs/" + id, R"({"reason": "a\tb"})").status == 400);
  CHECK(c.request("DELETE", "/v1/jobs/" + id, R"({"reason": "x"})", "text/plain").status == 415);
  CHECK(str(c.get("/v1/jobs/" + id).json(), "status") == "running");

  REQUIRE(c.request("POST", "/v1/jobs/" + id + "/cancel", R"({"reason": "wrong reference genome"})").status == 200);
  r = c.request("POST", "/v1/jobs/" + id + "/retry", R"({"reason": 5})");
  CHECK(r.status == 400);
  CHECK(str(r.json(), "detail") == "the retry is invalid");
  CHECK(str(c.get("/v1/jobs/" + id).json(), "status") == "cancelled");
  REQUIRE(c.request("POST", "/v1/jobs/" + id + "/retry", R"({"reason": "genome fixed"})").status == 202);
  CHECK(str(await_status(c, id, "running"), "status") == "running");
  REQUIRE(c.request("DELETE", "/v1/jobs/" + id, R"({"reason": "superseded"})").status == 200);

  std::vector<std::string> reasons;
  const auto history = c.get("/v1/jobs/" + id + "/history").json();  // held: the loop reads into it
  for (const auto& t : history.at("transitions").as_array()) reasons.push_back(str(t, "reason"));
  CHECK(std::count(reasons.begin(), reasons.end(), "cancelled by client 127.0.0.1: wrong reference genome") == 1);
  CHECK(std::count(reasons.begin(), reasons.end(), "retried by client 127.0.0.1: genome fixed") == 1);
  CHECK(std::count(reasons.begin(), reasons.end(), "cancelled by client 127.0.0.1: superseded") == 1);

  // A batch's cancel: each job's reason says so.
  const auto batch = c.post("/v1/batches", json::parse(R"({"jobs":[{"tool":"sleep","params":{"seconds":60}}]})")).json();
  const auto batch_id = str(batch, "batch_id");
  const auto job = std::string{batch.at("job_ids").as_array().at(0).as_string()};
  CHECK(c.request("DELETE", "/v1/batches/" + batch_id, R"({"reason": ["x"]})").status == 400);
  REQUIRE(c.request("DELETE", "/v1/batches/" + batch_id, R"({"reason": "wrong samples"})").status == 200);
  const auto batch_history = c.get("/v1/jobs/" + job + "/history").json();
  CHECK(str(batch_history.at("transitions").as_array().back(), "reason") ==
        "batch cancelled by client 127.0.0.1: wrong samples");
  // The POST form is the same cancel: a refused body changes nothing, a
  // good one keeps its reason, and a second cancel is a conflict.
  const auto second = c.post("/v1/batches", json::parse(R"({"jobs":[{"tool":"sleep","params":{"seconds":60}}]})")).json();
  const auto second_id = str(second, "batch_id");
  const auto second_job = std::string{second.at("job_ids").as_array().at(0).as_string()};
  r = c.request("POST", "/v1/batches/" + second_id + "/cancel", R"({"reasn": "x"})");
  CHECK(r.status == 400);
  CHECK(r.body.find(R"(unknown field \"reasn\"; did you mean \"reason\"?)") != std::string::npos);
  CHECK(str(c.get("/v1/batches/" + second_id).json(), "batch_status") != "cancelled");
  r = c.request("POST", "/v1/batches/" + second_id + "/cancel", R"({"reason": "duplicate run"})");
  REQUIRE(r.status == 200);
  CHECK(str(r.json(), "batch_status") == "cancelled");
  CHECK(str(c.get("/v1/jobs/" + second_job + "/history").json().at("transitions").as_array().back(), "reason") ==
        "batch cancelled by client 127.0.0.1: duplicate run");
  CHECK(c.request("POST", "/v1/batches/" + second_id + "/cancel", "").status == 409);
  CHECK(c.request("POST", "/v1/batches/no_such_batch/cancel", "").status == 404);
}

TEST_CASE("a job past its timeout is timed out over HTTP", "[http][timeout]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto id = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":60,"steps":60},"timeout_s":1})"));
  auto view = await_status(c, id);
  CHECK(str(view, "status") == "timed_out");
  CHECK(std::string{view.at("error").as_string()}.find("timed out") != std::string::npos);
}

TEST_CASE("fail with retries completes after its failures, visible in history", "[http][retry]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto id = submit(c, json::parse(R"({"tool":"fail","params":{"failures":2},
      "retry":{"max_attempts":3,"initial_backoff_ms":10}})"));
  auto view = await_status(c, id);
  CHECK(str(view, "status") == "completed");
  CHECK(view.at("attempt").as_int64() == 3);
  auto ts = c.get("/v1/jobs/" + id + "/history").json().at("transitions").as_array();
  int retrying = 0;
  for (auto& t : ts)
    if (str(t, "to") == "retrying") ++retrying;
  CHECK(retrying == 2);
}

TEST_CASE("list filters by status, tool and label and pages both ways", "[http][list]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(submit(c, json::parse(R"({"tool":"noop","labels":{"country":"Kenya"}})")));
  auto failed = submit(c, json::parse(R"({"tool":"fail","labels":{"country":"Peru"}})"));
  for (auto& id : ids) await_status(c, id);
  await_status(c, failed);

  auto all = c.get("/v1/jobs").json().as_object();
  CHECK(all.at("total_count").as_int64() == 6);
  CHECK(all.at("has_next").as_bool() == false);
  CHECK(str(all.at("jobs").as_array()[0], "job_id") == failed);  // newest first

  auto page = c.get("/v1/jobs?tool=noop&page=2&page_size=2").json().as_object();
  CHECK(page.at("total_count").as_int64() == 5);
  CHECK(page.at("has_next").as_bool());
  REQUIRE(page.at("jobs").as_array().size() == 2);
  CHECK(str(page.at("jobs").as_array()[0], "job_id") == ids[2]);

  auto limited = c.get("/v1/jobs?limit=2&offset=4").json().as_object();
  CHECK(limited.at("jobs").as_array().size() == 2);
  CHECK(limited.at("has_next").as_bool() == false);

  CHECK(c.get("/v1/jobs?status=failed").json().at("total_count").as_int64() == 1);
  CHECK(c.get("/v1/jobs?label.country=Kenya").json().at("total_count").as_int64() == 5);
  CHECK(c.get("/v1/jobs?label.country=Peru&status=failed").json().at("total_count").as_int64() == 1);
  CHECK(c.get("/v1/jobs?created_after=2000-01-01T00:00:00Z").json().at("total_count").as_int64() == 6);
  CHECK(c.get("/v1/jobs?created_before=2000-01-01T00:00:00Z").json().at("total_count").as_int64() == 0);
}

TEST_CASE("tools and health describe the daemon", "[http][system]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto tools = c.get("/v1/tools").json().at("tools").as_array();
  std::set<std::string> names;
  for (auto& t : tools) names.insert(str(t, "name"));
  CHECK(names.count("sleep") + names.count("fail") + names.count("noop") + names.count("fasta_stats") == 4);
  auto health = c.get("/v1/health");
  CHECK(health.status == 200);
  CHECK(str(health.json(), "status") == "healthy");
  CHECK(health.json().at("queue_stats").as_object().contains("pending_jobs"));
}

TEST_CASE("keep-alive and pipelined requests are answered in order", "[http][keepalive]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  for (int i = 0; i < 20; ++i) CHECK(c.get("/v1/health").status == 200);
  // Two requests in one write: a submit (answered asynchronously) then a GET.
  const std::string body = R"({"tool":"noop"})";
  auto first = c.raw("POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body +
                     "GET /v1/tools HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(first.status == 202);
  auto second = c.raw("");
  CHECK(second.status == 200);
  CHECK(second.body.find("\"tools\"") != std::string::npos);
}

TEST_CASE("SIGTERM stops the daemon cleanly with status 0 and running jobs resume at the next start",
          "[http][daemon]") {
  temp_dir dir;
  std::string id;
  {
    overseerd_process d{dir.path() / "data"};
    http_client c{d.port()};
    id = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30,"steps":30}})"));
    await_status(c, id, "running");
    CHECK(d.stop() == 0);
  }
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  CHECK(str(await_status(c, id, "running"), "status") == "running");
  auto ts = c.get("/v1/jobs/" + id + "/history").json().at("transitions").as_array();
  bool interrupted = false;
  for (auto& t : ts) {
    CHECK(str(t, "to") != "failed");
    if (str(t, "reason") == "interrupted") interrupted = true;
  }
  CHECK(interrupted);
}
