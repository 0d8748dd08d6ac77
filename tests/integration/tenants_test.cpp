// Tenants on the real overseerd (docs/api.md, "Principals and roles";
// docs/operations.md, "Tenants"): an admin, users alice and bob and a
// reader from a tokens file; isolation of every route and of the stream,
// 401/403/404/429, quotas, the tokens file reloaded on SIGHUP, and fair
// share between principals.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "overseer/http/server.hpp"
#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using namespace overseer::test;
namespace json = boost::json;

namespace {

std::string hex_sha256(const std::string& token) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto c : overseer::http::sha256(token)) {
    out += digits[c >> 4];
    out += digits[c & 0xF];
  }
  return out;
}

struct someone {
  std::string name, role, token;
  std::string quotas = "";  // JSON members of "quotas", if any
  int weight = 1;
};

void write_tokens(const std::filesystem::path& file, const std::vector<someone>& people) {
  json::array list;
  for (const auto& p : people) {
    json::object o{{"name", p.name}, {"role", p.role}, {"token_sha256", hex_sha256(p.token)}, {"weight", p.weight}};
    if (!p.quotas.empty()) o["quotas"] = json::parse("{" + p.quotas + "}");
    list.push_back(std::move(o));
  }
  std::ofstream{file} << json::serialize(json::object{{"principals", std::move(list)}});
}

const std::vector<someone> cast = {
  {"root", "admin", "tok-admin-7f3a"},
  {"alice", "user", "tok-alice-91c2"},
  {"bob", "user", "tok-bob-44d0"},
  {"audit", "reader", "tok-reader-0b8e"},
};

/// One principal's keep-alive connection.
struct as {
  http_client c;
  std::string token;
  as(unsigned short port, std::string t) : c(port), token(std::move(t)) {}
  http_reply call(const std::string& method, const std::string& target, const std::string& body = {}) {
    return c.request(method, target, body, "application/json", {{"Authorization", "Bearer " + token}});
  }
  http_reply get(const std::string& target) { return call("GET", target); }
  http_reply post(const std::string& target, const json::value& body = json::object{}) {
    return call("POST", target, json::serialize(body));
  }
  http_reply del(const std::string& target) { return call("DELETE", target); }
  std::string submit(const std::string& spec) {
    auto r = call("POST", "/v1/jobs", spec);
    if (r.status != 202) throw std::runtime_error("submit refused: " + std::to_string(r.status) + " " + r.body);
    return str(r.json(), "job_id");
  }
  std::string status(const std::string& id) { return str(get("/v1/jobs/" + id).json(), "status"); }
};

std::vector<std::string> ids_of(const http_reply& list) {
  std::vector<std::string> out;
  const auto body = list.json();
  for (const auto& j : body.at("jobs").as_array()) out.push_back(str(j, "job_id"));
  return out;
}

/// Reads the stream until the transition of `job` to `to`; every job id
/// seen on the way is added to `seen`.
bool read_until(ws_client& ws, const std::string& job, const std::string& to, std::set<std::string>& seen) {
  return ws
    .until([&](const json::object& m) {
      if (m.contains("job_id")) seen.insert(std::string{m.at("job_id").as_string()});
      return m.at("type") == "transition" && m.at("job_id") == job.c_str() && m.at("to") == to.c_str();
    })
    .has_value();
}

}  // namespace

TEST_CASE("tenants: users see and act on their own jobs only, a reader changes nothing", "[tenants]") {
  temp_dir dir;
  write_tokens(dir.path() / "tokens.json", cast);
  overseerd_process d{dir.path() / "data", {"--tokens", (dir.path() / "tokens.json").string()}};
  as admin{d.port(), "tok-admin-7f3a"}, alice{d.port(), "tok-alice-91c2"}, bob{d.port(), "tok-bob-44d0"},
    reader{d.port(), "tok-reader-0b8e"}, stranger{d.port(), "tok-nobody"};

  const auto a_done = alice.submit(R"({"tool":"noop","use_cache":true})");
  const auto a_long = alice.submit(R"({"tool":"sleep","params":{"seconds":300}})");
  const auto b_done = bob.submit(R"({"tool":"noop"})");
  auto batch = alice.post("/v1/batches", json::parse(R"({"name":"a","jobs":[{"tool":"noop"}]})"));
  REQUIRE(batch.status == 202);
  const auto a_batch = str(batch.json(), "batch_id");
  REQUIRE(eventually([&] {
    return alice.status(a_done) == "completed" && bob.status(b_done) == "completed" &&
           str(alice.get("/v1/batches/" + a_batch).json(), "batch_status") == "completed";
  }));

  SECTION("no token or an unknown one is 401") {
    CHECK(stranger.get("/v1/jobs").status == 401);
    http_client bare{d.port()};
    CHECK(bare.get("/v1/jobs").status == 401);
  }

  SECTION("the owner is recorded and shown") {
    CHECK(str(alice.get("/v1/jobs/" + a_done).json(), "owner") == "alice");
    CHECK(str(alice.get("/v1/batches/" + a_batch).json(), "owner") == "alice");
  }

  SECTION("another user's job, its parts and its batch are 404, for reading and acting") {
    // Alice's reads keep her finished job's answer (http/finished_views.hpp):
    // Bob's reads below meet the kept answer, and still get a 404.
    REQUIRE(alice.get("/v1/jobs/" + a_done).status == 200);
    REQUIRE(alice.get("/v1/jobs/" + a_done).status == 200);
    for (const auto& path : {"/v1/jobs/" + a_done, "/v1/jobs/" + a_done + "/result", "/v1/jobs/" + a_done + "/logs",
                             "/v1/jobs/" + a_done + "/history", "/v1/batches/" + a_batch})
      CHECK(bob.get(path).status == 404);
    CHECK(bob.del("/v1/jobs/" + a_long).status == 404);
    CHECK(bob.post("/v1/jobs/" + a_long + "/cancel").status == 404);
    CHECK(bob.post("/v1/jobs/" + a_done + "/retry").status == 404);
    CHECK(bob.del("/v1/batches/" + a_batch).status == 404);
    // Depending on another's job would tell its fate: refused as unknown.
    auto dep = bob.post("/v1/jobs", json::parse(R"({"tool":"noop","depends_on":[")" + a_done + R"("]})"));
    CHECK(dep.status == 400);
    CHECK(dep.json().at("errors").as_array().front().at("field") == "depends_on[0]");
    CHECK(alice.post("/v1/jobs", json::parse(R"({"tool":"noop","depends_on":[")" + a_done + R"("]})")).status == 202);
    CHECK(alice.status(a_long) != "cancelled");
    // The 404 reads like an id that does not exist.
    CHECK(bob.get("/v1/jobs/" + a_done).json().at("detail") == ("no job " + a_done).c_str());
  }

  SECTION("lists and bulk actions cover the caller's own jobs; admins and readers see all") {
    const auto mine = ids_of(bob.get("/v1/jobs"));
    CHECK(mine == std::vector<std::string>{b_done});
    CHECK(bob.get("/v1/batches").json().at("total_count") == 0);
    CHECK(alice.get("/v1/batches").json().at("total_count") == 1);
    CHECK(alice.get("/v1/jobs").json().at("total_count") == 3);
    CHECK(admin.get("/v1/jobs").json().at("total_count") == 4);
    CHECK(reader.get("/v1/jobs").json().at("total_count") == 4);
    CHECK(reader.get("/v1/jobs/" + a_done).status == 200);
    // Bob's bulk cancel and purge do not reach alice's jobs.
    auto cancelled = bob.post("/v1/jobs/cancel?all=true");
    CHECK(cancelled.status == 200);
    CHECK(alice.status(a_long) != "cancelled");
    auto purge = bob.post("/v1/jobs/purge?all=true&dry_run=true");
    REQUIRE(purge.status == 200);
    CHECK(purge.json().at("matched") == 1);
    CHECK(admin.post("/v1/jobs/purge?all=true&dry_run=true").json().at("matched") == 3);
  }

  SECTION("a reader reads everything and changes nothing: 403 with a problem document") {
    auto r = reader.post("/v1/jobs", json::parse(R"({"tool":"noop"})"));
    CHECK(r.status == 403);
    CHECK(r.headers["Content-Type"] == "application/problem+json");
    CHECK(reader.del("/v1/jobs/" + a_long).status == 403);
    CHECK(reader.post("/v1/jobs/" + a_done + "/retry").status == 403);
    CHECK(reader.post("/v1/jobs/cancel?all=true").status == 403);
    CHECK(reader.del("/v1/cache?confirm=true").status == 403);
    CHECK(reader.post("/v1/tools/sleep/pause").status == 403);
    CHECK(reader.post("/v1/batches", json::parse(R"({"jobs":[{"tool":"noop"}]})")).status == 403);
    CHECK(reader.get("/metrics").status == 200);
    CHECK(reader.get("/v1/metrics").status == 200);
    CHECK(reader.get("/v1/cache/stats").status == 200);
    CHECK(alice.status(a_long) != "cancelled");
    CHECK(admin.get("/v1/jobs").json().at("total_count") == 4);
  }

  SECTION("a user neither pauses tools nor reads every principal's figures") {
    CHECK(alice.post("/v1/tools/sleep/pause").status == 403);
    CHECK(alice.post("/v1/tools/sleep/resume").status == 403);
    CHECK(alice.get("/metrics").status == 403);
    CHECK(alice.get("/v1/metrics").status == 403);
    CHECK(alice.get("/v1/cache/stats").status == 403);
    CHECK(alice.get("/v1/tools").status == 200);
    CHECK(alice.get("/v1/health").status == 200);
  }

  SECTION("cache clear: a user's own entries only; the audit names who") {
    auto cleared = bob.del("/v1/cache?confirm=true");
    REQUIRE(cleared.status == 200);
    CHECK(cleared.json().at("cleared_results") == 0);
    // A cache hit is a principal's own: bob's equal submit is not answered by alice's result.
    auto r = bob.post("/v1/jobs", json::parse(R"({"tool":"noop","use_cache":true})"));
    CHECK(str(r.json(), "status") == "pending");
    cleared = alice.del("/v1/cache?confirm=true");
    REQUIRE(cleared.status == 200);
    CHECK(cleared.json().at("cleared_results") == 1);
  }

  SECTION("cancel, retry and tool pause record who did it") {
    auto c = alice.del("/v1/jobs/" + a_long);
    REQUIRE(c.status == 200);
    auto history = json::value_to<json::array>(alice.get("/v1/jobs/" + a_long + "/history").json().at("transitions"));
    CHECK(str(history.back(), "reason") == "cancelled by alice (client 127.0.0.1)");
    REQUIRE(alice.post("/v1/jobs/" + a_long + "/retry").status == 202);
    history = json::value_to<json::array>(alice.get("/v1/jobs/" + a_long + "/history").json().at("transitions"));
    CHECK(std::any_of(history.begin(), history.end(), [](const json::value& t) {
      return str(t, "reason").find("retried by alice (client 127.0.0.1)") != std::string::npos;
    }));
    auto p = admin.post("/v1/tools/fail/pause");
    REQUIRE(p.status == 200);
    CHECK(str(p.json(), "paused_reason") == "paused by root (client 127.0.0.1)");
  }
  CHECK(d.stop() == 0);
}

TEST_CASE("tenants: the stream carries a user's own events only, live and replayed", "[tenants][stream]") {
  temp_dir dir;
  write_tokens(dir.path() / "tokens.json", cast);
  overseerd_process d{dir.path() / "data", {"--tokens", (dir.path() / "tokens.json").string()}};
  as alice{d.port(), "tok-alice-91c2"}, bob{d.port(), "tok-bob-44d0"};

  ws_client live{d.port(), "/v1/stream?all=1&logs=1&access_token=tok-bob-44d0"};
  REQUIRE(live.until([](const json::object& m) { return m.at("type") == "subscribed"; }));
  std::vector<std::string> theirs;
  for (int i = 0; i < 5; ++i) theirs.push_back(alice.submit(R"({"tool":"noop"})"));
  REQUIRE(eventually([&] { return alice.status(theirs.back()) == "completed"; }));
  // Bob's own job after alice's: once its end arrives, alice's events would have come first.
  const auto marker = bob.submit(R"({"tool":"noop"})");
  std::set<std::string> seen;
  REQUIRE(read_until(live, marker, "completed", seen));
  CHECK(seen == std::set<std::string>{marker});

  SECTION("replay with since") {
    ws_client replay{d.port(), "/v1/stream?all=1&logs=1&since=0&access_token=tok-bob-44d0"};
    std::set<std::string> replayed;
    REQUIRE(read_until(replay, marker, "completed", replayed));
    CHECK(replayed == std::set<std::string>{marker});
  }
  SECTION("subscribing to another user's job or batch is refused as unknown") {
    ws_client ws{d.port(), "/v1/stream?access_token=tok-bob-44d0"};
    ws.send(json::object{{"op", "subscribe"}, {"job_id", theirs.front()}, {"since", 0}});
    auto m = ws.until([](const json::object& x) { return x.at("type") == "error" || x.at("type") == "subscribed"; });
    REQUIRE(m);
    CHECK(m->at("type") == "error");
    CHECK(m->at("message") == ("no job " + theirs.front()).c_str());
  }
  SECTION("alice's stream has hers, not bob's") {
    ws_client ws{d.port(), "/v1/stream?all=1&since=0&access_token=tok-alice-91c2"};
    std::set<std::string> hers;
    REQUIRE(read_until(ws, theirs.back(), "completed", hers));
    CHECK_FALSE(hers.contains(marker));
  }
  CHECK(d.stop() == 0);
}

TEST_CASE("tenants: quotas refuse with 429 and Retry-After, creating nothing", "[tenants][quotas]") {
  temp_dir dir;
  auto people = cast;
  people.push_back({"slow", "user", "tok-slow-5521", R"("submits_per_second": 0.01)"});
  people.push_back({"small", "user", "tok-small-8812", R"("max_queued": 2)"});
  people.push_back({"single", "user", "tok-single-1177", R"("max_running": 1)"});
  write_tokens(dir.path() / "tokens.json", people);
  overseerd_process d{dir.path() / "data",
                      {"--tokens", (dir.path() / "tokens.json").string(), "--max-concurrent", "4"}};
  as admin{d.port(), "tok-admin-7f3a"}, slow{d.port(), "tok-slow-5521"}, small{d.port(), "tok-small-8812"},
    single{d.port(), "tok-single-1177"};

  SECTION("submits_per_second: a token bucket") {
    slow.submit(R"({"tool":"noop"})");
    auto r = slow.post("/v1/jobs", json::parse(R"({"tool":"noop"})"));
    CHECK(r.status == 429);
    CHECK(r.headers["Content-Type"] == "application/problem+json");
    REQUIRE(r.headers.contains("Retry-After"));
    CHECK(std::stoi(r.headers["Retry-After"]) >= 90);
    CHECK(r.json().at("errors").as_array().front().at("field") == "submits_per_second");
    CHECK(slow.get("/v1/jobs").json().at("total_count") == 1);
  }

  SECTION("max_queued: pending and retrying jobs; a batch counts all its jobs") {
    REQUIRE(admin.post("/v1/tools/sleep/pause").status == 200);
    ws_client ws{d.port(), "/v1/stream?all=1&access_token=tok-small-8812"};
    REQUIRE(ws.until([](const json::object& m) { return m.at("type") == "subscribed"; }));
    const auto first = small.submit(R"({"tool":"sleep","params":{"seconds":1}})");
    const auto second = small.submit(R"({"tool":"sleep","params":{"seconds":1}})");
    // Once the stream shows them created, the quota has counted them.
    std::set<std::string> seen;
    REQUIRE(read_until(ws, second, "pending", seen));
    auto r = small.post("/v1/jobs", json::parse(R"({"tool":"noop"})"));
    CHECK(r.status == 429);
    REQUIRE(r.headers.contains("Retry-After"));
    CHECK(r.json().at("errors").as_array().front().at("field") == "max_queued");
    CHECK(small.get("/v1/jobs").json().at("total_count") == 2);
    REQUIRE(small.del("/v1/jobs/" + first).status == 200);
    REQUIRE(read_until(ws, first, "cancelled", seen));
    auto two = small.post("/v1/batches", json::parse(R"({"jobs":[{"tool":"noop"},{"tool":"noop"}]})"));
    CHECK(two.status == 429);
    CHECK(small.get("/v1/jobs").json().at("total_count") == 2);
    auto one = small.post("/v1/batches", json::parse(R"({"jobs":[{"tool":"noop"}]})"));
    CHECK(one.status == 202);
    REQUIRE(admin.post("/v1/tools/sleep/resume").status == 200);
  }

  SECTION("max_running: the principal's jobs wait while others' start") {
    const auto one = single.submit(R"({"tool":"sleep","params":{"seconds":300}})");
    REQUIRE(eventually([&] { return single.status(one) == "running"; }));
    const auto two = single.submit(R"({"tool":"sleep","params":{"seconds":300}})");
    // Submitted after `two`, by someone else, and it runs to the end: the
    // scheduler passed `two` by with slots free.
    const auto other = admin.submit(R"({"tool":"noop"})");
    REQUIRE(eventually([&] { return admin.status(other) == "completed"; }));
    CHECK(single.status(two) == "pending");
    REQUIRE(single.del("/v1/jobs/" + one).status == 200);
    CHECK(eventually([&] { return single.status(two) == "running"; }));
    REQUIRE(single.del("/v1/jobs/" + two).status == 200);
  }
  CHECK(d.stop() == 0);
}

TEST_CASE("tenants: the tokens file is reloaded on SIGHUP, a bad one keeps the old principals", "[tenants][reload]") {
  temp_dir dir;
  const auto tokens = dir.path() / "tokens.json";
  const auto log = dir.path() / "daemon.log";
  write_tokens(tokens, {cast[0], cast[1]});
  overseerd_process d{dir.path() / "data", {"--tokens", tokens.string(), "--log-format", "json"}, log};
  as alice{d.port(), "tok-alice-91c2"}, carol{d.port(), "tok-carol-6d1e"};
  CHECK(alice.get("/v1/jobs").status == 200);
  CHECK(carol.get("/v1/jobs").status == 401);

  auto log_has = [&](const std::string& text) {
    std::ifstream in{log};
    std::stringstream s;
    s << in.rdbuf();
    return s.str().find(text) != std::string::npos;
  };
  // Streams opened before the reload: alice's token is about to go, root's stays.
  ws_client alice_ws{d.port(), "/v1/stream?all=1&access_token=tok-alice-91c2"};
  ws_client root_ws{d.port(), "/v1/stream?all=1&access_token=tok-admin-7f3a"};
  REQUIRE(alice_ws.until([](const json::object& m) { return m.at("type") == "subscribed"; }));
  REQUIRE(root_ws.until([](const json::object& m) { return m.at("type") == "subscribed"; }));

  write_tokens(tokens, {cast[0], {"carol", "user", "tok-carol-6d1e"}});
  REQUIRE(::kill(d.pid(), SIGHUP) == 0);
  // The same keep-alive connections before and after: nothing is dropped.
  REQUIRE(eventually([&] { return carol.get("/v1/jobs").status == 200; }));
  CHECK(alice.get("/v1/jobs").status == 401);
  CHECK(eventually([&] { return log_has("tokens file reloaded"); }));  // the log is written within ms
  // A revoked token's open stream is closed (1008), not left streaming.
  for (int i = 0; i < 200 && !alice_ws.closed(); ++i) (void)alice_ws.next(std::chrono::milliseconds{100});
  REQUIRE(alice_ws.closed());
  CHECK(alice_ws.close_code() == 1008);
  CHECK(alice_ws.close_reason().find("revoked") != std::string::npos);
  // A token that still holds keeps its stream.
  as root{d.port(), "tok-admin-7f3a"};
  const auto id = root.submit(R"({"tool": "noop"})");
  std::set<std::string> seen;
  CHECK(read_until(root_ws, id, "completed", seen));
  CHECK_FALSE(root_ws.closed());

  std::ofstream{tokens} << R"({"principals": [{"name": "dave", "role": "boss"}]})";
  REQUIRE(::kill(d.pid(), SIGHUP) == 0);
  REQUIRE(eventually([&] { return log_has("tokens file not reloaded"); }));
  CHECK(log_has("principals[0].role"));
  CHECK(carol.get("/v1/jobs").status == 200);
  CHECK(d.stop() == 0);
  // No token is ever written to the log.
  for (const auto& p : cast) CHECK_FALSE(log_has(p.token));
  CHECK_FALSE(log_has("tok-carol-6d1e"));
}

TEST_CASE("tenants: fair share, B's 5 jobs all start before A's 20th of 500", "[tenants][fair_share]") {
  temp_dir dir;
  write_tokens(dir.path() / "tokens.json", cast);
  overseerd_process d{dir.path() / "data",
                      {"--tokens", (dir.path() / "tokens.json").string(), "--max-concurrent", "2"}};
  as admin{d.port(), "tok-admin-7f3a"}, alice{d.port(), "tok-alice-91c2"}, bob{d.port(), "tok-bob-44d0"};
  // The tool waits while both submit, so what starts first is the
  // scheduler's choice alone, not how fast the requests came.
  REQUIRE(admin.post("/v1/tools/noop/pause").status == 200);
  ws_client ws{d.port(), "/v1/stream?all=1&access_token=tok-admin-7f3a"};
  REQUIRE(ws.until([](const json::object& m) { return m.at("type") == "subscribed"; }));
  std::vector<std::string> a, b;
  for (int i = 0; i < 500; ++i) a.push_back(alice.submit(R"({"tool":"noop"})"));
  for (int i = 0; i < 5; ++i) b.push_back(bob.submit(R"({"tool":"noop"})"));
  REQUIRE(admin.post("/v1/tools/noop/resume").status == 200);
  // The start order: the seq of each job's transition to running.
  std::map<std::string, std::uint64_t> started;
  REQUIRE(ws.until(
    [&](const json::object& m) {
      if (m.at("type") == "transition" && m.at("to") == "running")
        started.emplace(std::string{m.at("job_id").as_string()}, json::value_to<std::uint64_t>(m.at("seq")));
      return started.contains(a[19]) && std::all_of(b.begin(), b.end(), [&](const auto& id) { return started.contains(id); });
    },
    120s));
  for (const auto& id : b) CHECK(started.at(id) < started.at(a[19]));
  // FIFO within alice's jobs.
  for (int i = 1; i < 20; ++i) CHECK(started.at(a[i - 1]) < started.at(a[i]));
  CHECK(d.stop(5s) == 0);
}
