// Synchronous runs, immediate tools, trace ids and estimates on the real
// overseerd (docs/api.md, "Synchronous runs", "Trace ids", "Estimates").
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <set>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using namespace overseer::test;
namespace json = boost::json;

namespace {

const std::string trace = "0af7651916cd43dd8448eb211c80319c";
const std::string traceparent = "00-" + trace + "-b7ad6b7169203331-01";

std::filesystem::path write_tools(const std::filesystem::path& dir) {
  // An immediate tool that prints its environment's trace into its result.
  const auto script = dir / "env.sh";
  std::ofstream{script} << "printf '@overseer {\"result\": {\"traceparent\":\"%s\",\"trace_id\":\"%s\"}}\\n' "
                           "\"$TRACEPARENT\" \"$OVERSEER_TRACE_ID\"\n";
  const auto file = dir / "tools.json";
  std::ofstream{file} << json::serialize(json::object{
    {"tools", json::array{json::object{{"name", "env"}, {"mode", "immediate"}, {"command", {"bash", script.string()}}},
                          json::object{{"name", "hold"}, {"command", {"sleep", "30"}}}}}});
  return file;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in{p};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("?wait= answers 200 with the finished job, or 202 when it goes on", "[http][sync]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto r = c.post("/v1/jobs?wait=20s", json::object{{"tool", "noop"}});
  REQUIRE(r.status == 200);
  auto view = r.json().as_object();
  CHECK(str(view, "status") == "completed");
  CHECK(view.at("result").is_object());
  CHECK(str(view, "job_id").starts_with("job_"));

  // Not done in time: the usual 202, saying how it is now; the job goes on.
  r = c.post("/v1/jobs?wait=300ms", json::object{{"tool", "sleep"}, {"params", {{"seconds", 2}}}});
  REQUIRE(r.status == 202);
  const auto id = str(r.json(), "job_id");
  CHECK((str(r.json(), "status") == "pending" || str(r.json(), "status") == "running"));
  // The job's own long poll: answered when it ends, with its view.
  r = c.get("/v1/jobs/" + id + "?wait=30s");
  REQUIRE(r.status == 200);
  CHECK(str(r.json(), "status") == "completed");

  // wait=0 is the asynchronous submit, a cache hit's too; with a wait, a
  // cache hit answers its finished view at once.
  CHECK(c.post("/v1/jobs?wait=0", json::object{{"tool", "noop"}}).status == 202);
  const json::object cached{{"tool", "sleep"}, {"params", {{"seconds", 0.01}}}, {"use_cache", true}};
  REQUIRE(c.post("/v1/jobs?wait=20s", cached).status == 200);
  r = c.post("/v1/jobs?wait=0", cached);
  CHECK(r.status == 202);
  CHECK(str(r.json(), "status") == "completed");
  r = c.post("/v1/jobs?wait=5s", cached);
  CHECK(r.status == 200);
  CHECK(r.json().as_object().contains("cache_info"));

  // A bad wait and a bad spec in one answer; nothing submitted.
  const auto before = job_count(c);
  r = c.post("/v1/jobs?wait=soon", json::object{{"tool", "noop"}, {"priority", 99}});
  REQUIRE(r.status == 400);
  std::set<std::string> fields;
  const auto problem = r.json();
  for (const auto& e : problem.at("errors").as_array()) fields.insert(str(e, "field"));
  CHECK(fields == std::set<std::string>{"wait", "priority"});
  CHECK(c.post("/v1/jobs?wait=-1", json::object{{"tool", "noop"}}).status == 400);
  CHECK(c.post("/v1/jobs?later=1", json::object{{"tool", "noop"}}).status == 400);
  CHECK(c.get("/v1/jobs/" + id + "?wait=2h").status == 400);
  CHECK(job_count(c) == before);
}

TEST_CASE("a submit of an immediate tool waits for its end by default, and a drain answers a long wait",
          "[http][sync]") {
  temp_dir dir;
  const auto tools = write_tools(dir.path());
  overseerd_process d{dir.path() / "data", {"--tools", tools.string(), "--max-concurrent", "1"}};
  http_client c{d.port()};
  // The one slot is busy with a long job: the immediate tool has its own pool.
  const auto held = submit(c, json::object{{"tool", "hold"}});
  await_status(c, held, "running");
  auto r = c.post("/v1/jobs", json::object{{"tool", "env"}});
  REQUIRE(r.status == 200);
  CHECK(str(r.json(), "status") == "completed");
  CHECK(c.get("/v1/tools").json().at("tools").as_array().size() >= 2);

  // A request waiting when the daemon is told to stop gets its 202 at once,
  // not at its deadline.
  std::thread waiter([&] {
    http_client w{d.port()};
    auto a = w.post("/v1/jobs?wait=120s", json::object{{"tool", "sleep"}, {"params", {{"seconds", 60}}}});
    CHECK(a.status == 202);
  });
  REQUIRE(eventually([&] { return job_count(c) >= 3; }));
  const auto stopping = std::chrono::steady_clock::now();
  ::kill(d.pid(), SIGTERM);
  waiter.join();
  CHECK(std::chrono::steady_clock::now() - stopping < 60s);
  d.stop();
}

TEST_CASE("a trace id goes from traceparent to the job, its events, the listing, the tool and the log",
          "[http][trace]") {
  temp_dir dir;
  const auto tools = write_tools(dir.path());
  const auto log = dir.path() / "stderr.log";
  {
    overseerd_process d{dir.path() / "data", {"--tools", tools.string(), "--log-format", "json", "--log-level", "debug"},
                        log};
    http_client c{d.port()};
    ws_client ws{d.port()};
    ws.send(json::object{{"op", "subscribe"}, {"all", true}});
    REQUIRE(ws.until([](const json::object& m) { return m.at("type") == "subscribed"; }));

    auto r = c.request("POST", "/v1/jobs?wait=20s", R"({"tool": "env"})", "application/json",
                       {{"traceparent", traceparent}});
    REQUIRE(r.status == 200);
    auto view = r.json().as_object();
    const auto id = str(view, "job_id");
    CHECK(str(view, "trace_id") == trace);
    // The tool ran under the trace, as a span of its own.
    const auto tool_tp = str(view.at("result"), "traceparent");
    CHECK(tool_tp.starts_with("00-" + trace + "-"));
    CHECK(tool_tp != traceparent);
    CHECK(str(view.at("result"), "trace_id") == trace);
    // The stream's events carry it.
    auto ended = ws.until([&](const json::object& m) {
      return m.contains("job_id") && m.at("job_id") == json::value(id) && m.contains("to") && m.at("to") == "completed";
    });
    REQUIRE(ended);
    CHECK(str(*ended, "trace_id") == trace);

    // A spec's own trace_id wins over the header; another job has none.
    const std::string mine = "11111111111111111111111111111111";
    r = c.request("POST", "/v1/jobs", json::serialize(json::object{{"tool", "noop"}, {"trace_id", mine}}),
                  "application/json", {{"traceparent", traceparent}});
    REQUIRE(r.status == 202);
    const auto own = str(r.json(), "job_id");
    submit(c, json::object{{"tool", "noop"}});
    auto found = c.get("/v1/jobs?trace_id=" + trace).json();
    REQUIRE(found.at("jobs").as_array().size() == 1);
    CHECK(str(found.at("jobs").as_array()[0], "job_id") == id);
    found = c.get("/v1/jobs?trace_id=" + mine).json();
    REQUIRE(found.at("jobs").as_array().size() == 1);
    CHECK(str(found.at("jobs").as_array()[0], "job_id") == own);

    // Bad ones are named: the header, the spec's field, the query.
    r = c.request("POST", "/v1/jobs", R"({"tool": "noop", "trace_id": "xyz"})", "application/json",
                  {{"traceparent", "00-zz-1-01"}});
    REQUIRE(r.status == 400);
    std::set<std::string> fields;
    const auto problem = r.json();
  for (const auto& e : problem.at("errors").as_array()) fields.insert(str(e, "field"));
    CHECK(fields == std::set<std::string>{"traceparent", "trace_id"});
    CHECK(c.get("/v1/jobs?trace_id=ABC").status == 400);
    CHECK(d.stop() == 0);
  }
  // The daemon's log: the request line and the job's transitions carry it.
  const auto text = read_all(log);
  std::size_t requests = 0, transitions = 0;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    auto l = json::parse(line).as_object();
    if (!l.contains("trace_id") || l.at("trace_id") != json::value(trace)) continue;
    if (l.at("msg") == "request") ++requests;
    if (l.at("msg") == "transition") ++transitions;
  }
  CHECK(requests >= 1);
  CHECK(transitions >= 3);  // pending, running, completed
}

TEST_CASE("estimates appear in the submit answer and the view after a few runs", "[http][estimates]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "1"}};
  http_client c{d.port()};
  const json::object quick{{"tool", "sleep"}, {"params", {{"seconds", 0.1}}}};
  // The first submit is answered before any run of the tool: no estimate.
  auto first = c.post("/v1/jobs", quick);
  REQUIRE(first.status == 202);
  CHECK_FALSE(first.json().as_object().contains("estimated_duration_s"));
  REQUIRE(c.get("/v1/jobs/" + str(first.json(), "job_id") + "?wait=20s").status == 200);
  double shortest = 1e9, longest = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = c.post("/v1/jobs?wait=20s", quick);
    REQUIRE(r.status == 200);
    const double took = static_cast<double>(r.json().at("duration_ms").to_number<std::int64_t>()) / 1000;
    shortest = std::min(shortest, took);
    longest = std::max(longest, took);
  }
  // With the slot held, queued jobs wait in waves of one.
  const auto holder = submit(c, json::object{{"tool", "sleep"}, {"params", {{"seconds", 3}}}});
  await_status(c, holder, "running");
  json::object answer;
  REQUIRE(eventually([&] {
    answer = c.post("/v1/jobs", quick).json().as_object();
    return answer.contains("estimated_duration_s");
  }));
  const double estimate = answer.at("estimated_duration_s").to_number<double>();
  CHECK(estimate > 0.05);
  CHECK(estimate < 10);
  auto view = c.get("/v1/jobs/" + str(answer, "job_id")).json().as_object();
  REQUIRE(view.contains("estimated_run_s"));
  const double run = view.at("estimated_run_s").to_number<double>();
  CHECK(run >= shortest * 0.5);
  CHECK(run <= longest * 2);
  // The running holder: what remains of a typical run, and the rate's ETA.
  auto running = c.get("/v1/jobs/" + holder).json().as_object();
  CHECK(running.contains("estimated_duration_s"));
  REQUIRE(eventually([&] {
    running = c.get("/v1/jobs/" + holder).json().as_object();
    return running.at("progress").at("percent").to_number<double>() > 0;
  }));
  // The sleep tool reports percent but no ETA: the engine's comes from its rate.
  running = c.get("/v1/jobs/" + holder).json().as_object();
  const auto& progress = running.at("progress").as_object();
  if (str(running, "status") == "running") {
    CHECK(progress.contains("estimated_completion"));
    CHECK(str(progress, "estimated_completion_source") == "rate");
  }
}
