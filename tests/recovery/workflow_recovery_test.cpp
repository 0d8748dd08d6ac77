// kill -9 in the middle of a batch and of a dependency chain: after the
// restart the batch finishes within its parallel limit and the chain runs
// in order.
#include <sstream>

#include <catch2/catch.hpp>

#include "overseer/engine.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using namespace overseer;

TEST_CASE("after kill -9 a batch keeps its limit and a dependency chain its order", "[recovery][workflow]") {
  test::temp_dir dir;
  const auto data = dir.path() / "data";
  std::string batch_id, a, b, c;
  {
    test::child_process child{{OVERSEER_TEST_BIN_DIR "/overseer_workflow_child", data.string()}};
    std::string line;
    bool ready = false;
    while (!ready && child.read_line(line)) {
      std::istringstream words{line};
      std::string word;
      words >> word;
      if (word == "batch") words >> batch_id;
      else if (word == "chain") words >> a >> b >> c;
      else if (word == "ready") ready = true;
    }
    REQUIRE(ready);
    REQUIRE(child.kill9());
  }

  engine e{{.data_dir = data, .max_concurrent = 4}};
  e.start();
  auto batch = e.get_batch(batch_id);
  REQUIRE(batch);
  REQUIRE(batch->jobs.size() == 6);
  for (const auto& [id, st] : batch->jobs) CHECK(e.wait(id, 60s)->status == job_status::completed);
  CHECK(e.get_batch(batch_id)->status == "completed");

  // From the durable histories: never more than two batch jobs running at
  // once, across the crash (an interrupted attempt ends at its "interrupted").
  std::vector<std::pair<time_point, int>> edges;
  int interrupted = 0;
  for (const auto& [id, st] : batch->jobs) {
    std::optional<time_point> since;
    for (const auto& t : e.history(id)) {
      if (t.to == job_status::running) since = t.at;
      else if (since) {
        edges.emplace_back(*since, +1);
        edges.emplace_back(t.at, -1);
        since.reset();
      }
      if (t.reason == "interrupted") ++interrupted;

    }
  }
  std::sort(edges.begin(), edges.end());  // at equal times, ends (-1) before starts
  int running = 0, peak = 0;
  for (auto& [at, d] : edges) peak = std::max(peak, running += d);
  CHECK(peak <= 2);
  CHECK(interrupted >= 2);

  auto va = e.wait(a, 60s), vb = e.wait(b, 60s), vc = e.wait(c, 60s);
  REQUIRE(va);
  REQUIRE(vb);
  REQUIRE(vc);
  CHECK(vc->status == job_status::completed);
  CHECK(*vb->started_at >= *va->completed_at);
  CHECK(*vc->started_at >= *vb->completed_at);
}
