// kill -9 of the real overseerd while a client is submitting: every job that
// got a 202 exists after the restart and finishes, and a stream client
// resuming with since sees no gap. The crash loop does it round after round
// (OVERSEER_CHAOS_ROUNDS, default 20) with several clients and a mix of jobs.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "actors/job_lifecycle.hpp"
#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

/// OVERSEER_CHAOS_ROUNDS, default 20.
int chaos_rounds() {
  const char* v = std::getenv("OVERSEER_CHAOS_ROUNDS");
  return v && *v ? std::max(1, std::atoi(v)) : 20;
}

/// Mostly quick jobs; some sleep, so they are running and checkpointed when
/// the kill lands.
json::value chaos_job(std::mt19937& rng) {
  if (std::uniform_int_distribution<int>{0, 9}(rng) == 0)
    return json::object{{"tool", "sleep"}, {"params", {{"seconds", 0.1}, {"steps", 2}}}};
  return json::object{{"tool", "noop"}};
}

/// A job that fails once and retries. Sparingly: more than 20 failures of a
/// tool within 10 s pause it (restart intensity), and the pause outlives
/// the kills.
const json::value retrying_job = json::object{
  {"tool", "fail"},
  {"params", {{"failures", 1}}},
  {"retry", {{"max_attempts", 3}, {"initial_backoff_ms", 20}, {"max_backoff_ms", 50}}}};

/// Whether a job's history is a legal walk of the state machine from its
/// creation.
bool legal_history(const json::array& transitions) {
  std::optional<overseer::job_status> at;
  for (const auto& t : transitions) {
    const auto from = t.at("from").is_null() ? std::nullopt : overseer::parse_job_status(str(t, "from"));
    const auto to = overseer::parse_job_status(str(t, "to"));
    if (!to || from != at || !overseer::actors::can_transition(from, *to)) return false;
    at = to;
  }
  return at.has_value();
}

}  // namespace

TEST_CASE("kill -9 of overseerd mid-submit loses no accepted job and the stream resumes without a gap",
          "[recovery][http]") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  std::vector<std::string> accepted;
  std::mutex accepted_mutex;
  std::map<std::uint64_t, std::pair<std::string, std::string>> seen;  // seq -> (job, to)
  std::uint64_t last_seen = 0;
  {
    overseerd_process d{data, {"--max-concurrent", "2"}};
    ws_client ws{d.port(), "/v1/stream?all=1"};
    REQUIRE(ws.until([](auto& m) { return m.at("type").as_string() == "subscribed"; }));
    std::atomic<bool> stop{false};
    std::thread submitter([&] {
      http_client c{d.port()};
      for (int i = 0; !stop; ++i) {
        // A mix: quick jobs, and long ones that are running when the kill lands.
        auto spec = i % 25 == 0 ? json::parse(R"({"tool":"sleep","params":{"seconds":1,"steps":4}})")
                                : json::parse(R"({"tool":"noop"})");
        try {
          auto r = c.post("/v1/jobs", spec);
          if (r.status == 202) {
            std::lock_guard lock{accepted_mutex};
            accepted.push_back(str(r.json(), "job_id"));
          }
        } catch (const std::exception&) {
          return;  // the daemon is gone: this request got no 202
        }
      }
    });
    // Let work pile up, then kill in the middle of it.
    auto count = [&] {
      std::lock_guard lock{accepted_mutex};
      return accepted.size();
    };
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (count() < 300 && std::chrono::steady_clock::now() < deadline) {
      if (auto m = ws.next(50ms); m && m->as_object().at("type").as_string() == "transition") {
        const auto seq = m->at("seq").to_number<std::uint64_t>();
        seen[seq] = {str(*m, "job_id"), str(*m, "to")};
        last_seen = std::max(last_seen, seq);
      }
    }
    d.kill9();
    stop = true;
    submitter.join();
  }
  REQUIRE(accepted.size() >= 300);

  overseerd_process d{data, {"--max-concurrent", "2"}};
  http_client c{d.port()};
  ws_client ws{d.port(), "/v1/stream?all=1&since=" + std::to_string(last_seen)};
  for (const auto& id : accepted) {
    INFO(id);
    auto view = await_status(c, id, {}, 60s);
    CHECK(str(view, "status") == "completed");
  }
  // The resumed stream carries every transition after last_seen; with what
  // the first connection saw, each job's whole history is covered.
  std::set<std::string> complete;
  const std::set<std::string> accepted_set(accepted.begin(), accepted.end());
  const std::uint64_t need = accepted.size();
  REQUIRE(ws.until([&](auto& m) {
    if (m.at("type").as_string() == "transition") {
      const auto seq = m.at("seq").template to_number<std::uint64_t>();
      CHECK(seq > last_seen);
      seen[seq] = {str(m, "job_id"), str(m, "to")};
    }
    // Jobs whose 202 was lost with the daemon may exist too: count only
    // the accepted ones.
    complete.clear();
    for (auto& [seq, t] : seen)
      if (t.second == "completed" && accepted_set.contains(t.first)) complete.insert(t.first);
    return complete.size() >= need;
  }, 60s));
  std::map<std::string, std::size_t> per_job;
  for (auto& [seq, t] : seen) ++per_job[t.first];
  for (const auto& id : accepted) {
    INFO(id);
    auto history = c.get("/v1/jobs/" + id + "/history").json().at("transitions").as_array();
    std::string saw;
    for (auto& [seq, t] : seen)
      if (t.first == id) saw += std::to_string(seq) + ":" + t.second + " ";
    INFO("seen " << saw << "(resumed after " << last_seen << "); history " << boost::json::serialize(history));
    CHECK(per_job[id] == history.size());  // nothing missed, nothing twice
  }
}

TEST_CASE("crash loop: rounds of concurrent submits and kill -9 at random moments lose no accepted job",
          "[recovery][http][chaos]") {
  const int rounds = chaos_rounds();
  temp_dir dir;
  const auto data = dir.path() / "data";
  std::mt19937 rng{std::random_device{}()};
  std::vector<std::string> accepted;
  std::mutex accepted_mutex;
  auto count = [&] {
    std::lock_guard lock{accepted_mutex};
    return accepted.size();
  };
  const auto started = std::chrono::steady_clock::now();
  for (int round = 0; round < rounds; ++round) {
    overseerd_process d{data, {"--max-concurrent", "2"}};
    // The kill lands after a random number of further 202s, while three
    // clients have requests in flight and earlier rounds' jobs run.
    const auto kill_at = count() + std::uniform_int_distribution<std::size_t>{0, 120}(rng);
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 3; ++t)
      clients.emplace_back([&, seed = rng(), retrying = t == 0 && round % 5 == 0] {
        std::mt19937 local{static_cast<std::mt19937::result_type>(seed)};
        try {
          http_client c{d.port()};
          for (bool first = true; !stop; first = false) {
            auto r = c.post("/v1/jobs", first && retrying ? retrying_job : chaos_job(local));
            if (r.status != 202) continue;
            std::lock_guard lock{accepted_mutex};
            accepted.push_back(str(r.json(), "job_id"));
          }
        } catch (const std::exception&) {
          // The daemon is gone: this request got no 202.
        }
      });
    INFO("round " << round);
    CHECK(eventually([&] { return count() >= kill_at; }, 60s));
    d.kill9();
    stop = true;
    for (auto& c : clients) c.join();
  }

  overseerd_process d{data, {"--max-concurrent", "4"}};
  http_client c{d.port()};
  std::size_t lost = 0, illegal = 0, unfinished = 0;
  const auto deadline = std::chrono::steady_clock::now() + 300s;
  for (const auto& id : accepted) {
    INFO(id);
    if (c.get("/v1/jobs/" + id).status != 200) {
      ++lost;
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - std::chrono::steady_clock::now());
    if (str(await_status(c, id, {}, std::max(left, std::chrono::seconds{1})), "status") != "completed") ++unfinished;
    const auto history = c.get("/v1/jobs/" + id + "/history").json();
    if (!legal_history(history.at("transitions").as_array())) ++illegal;
  }
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - started;
  std::printf("crash loop: %d rounds, %zu accepted jobs, %zu lost, %zu illegal histories, %zu not completed, %.1f s\n",
              rounds, accepted.size(), lost, illegal, unfinished, wall.count());
  CHECK(accepted.size() >= static_cast<std::size_t>(rounds));
  CHECK(lost == 0);
  CHECK(illegal == 0);
  CHECK(unfinished == 0);
}

TEST_CASE("a tool paused over HTTP stays paused after kill -9, and a resume stays too", "[recovery][http]") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  std::string job, since;
  {
    overseerd_process d{data};
    http_client c{d.port()};
    auto r = c.request("POST", "/v1/tools/noop/pause", "", "");
    REQUIRE(r.status == 200);
    since = str(r.json(), "paused_since");
    CHECK(str(r.json(), "paused_reason") == "paused by client 127.0.0.1");
    job = submit(c, json::object{{"tool", "noop"}});
    d.kill9();  // right after the 200: the pause was durable before it
  }
  {
    overseerd_process d{data};
    http_client c{d.port()};
    json::object noop;
    const auto tools = c.get("/v1/tools").json();  // kept: the loop reads into it
    for (const auto& t : tools.at("tools").as_array())
      if (str(t, "name") == "noop") noop = t.as_object();
    REQUIRE(noop.contains("paused"));
    CHECK(noop.at("paused").as_bool());
    CHECK(str(noop, "paused_reason") == "paused by client 127.0.0.1");
    CHECK(str(noop, "paused_since") == since);
    const auto health = c.get("/v1/health").json();
    INFO(json::serialize(health));
    CHECK(json::serialize(health).find("\"paused\"") != std::string::npos);
    CHECK(str(c.get("/v1/jobs/" + job + "?wait=300ms").json(), "status") == "pending");
    REQUIRE(c.request("POST", "/v1/tools/noop/resume", "", "").status == 200);
    CHECK(str(await_status(c, job), "status") == "completed");
    d.kill9();
  }
  overseerd_process d{data};
  http_client c{d.port()};
  CHECK(str(await_status(c, submit(c, json::object{{"tool", "noop"}})), "status") == "completed");
  const auto tools = c.get("/v1/tools").json();
  for (const auto& t : tools.at("tools").as_array())
    if (str(t, "name") == "noop") CHECK_FALSE(t.at("paused").as_bool());
}
