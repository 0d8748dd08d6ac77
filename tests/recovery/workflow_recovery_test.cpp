// kill -9 in the middle of a batch and of a dependency chain: after the
// restart the batch finishes within its parallel limit and the chain runs
// in order.
#include <csignal>
#include <cstdio>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "overseer/engine.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

using namespace std::chrono_literals;
using namespace overseer;

TEST_CASE("after kill -9 a batch keeps its limit and a dependency chain its order", "[recovery][workflow]") {
  test::temp_dir dir;
  const auto data = dir.path() / "data";
  int out[2];
  REQUIRE(::pipe(out) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::string exe = OVERSEER_TEST_BIN_DIR "/overseer_workflow_child", arg = data.string();
  char* argv[] = {exe.data(), arg.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  FILE* in = ::fdopen(out[0], "r");
  std::string batch_id, a, b, c;
  char line[512];
  bool ready = false;
  while (!ready && std::fgets(line, sizeof line, in)) {
    std::istringstream words{line};
    std::string word;
    words >> word;
    if (word == "batch") words >> batch_id;
    else if (word == "chain") words >> a >> b >> c;
    else if (word == "ready") ready = true;
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::fclose(in);
  REQUIRE(ready);

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
