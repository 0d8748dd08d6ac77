// kill -9 of the real overseerd while a client is submitting: every job that
// got a 202 exists after the restart and finishes, and a stream client
// resuming with since sees no gap.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "support/daemon.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
using namespace std::chrono_literals;
namespace json = boost::json;

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
