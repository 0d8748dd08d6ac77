// kill -9 in the middle of work: every acknowledged job must survive, the
// interrupted ones must resume (from their checkpoint) and finish, and every
// history must be a legal walk of the state machine.
#include <cstdio>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "actors/job_lifecycle.hpp"
#include "support/child_process.hpp"
#include "support/engine_fixture.hpp"

using namespace std::chrono_literals;
using namespace overseer;

namespace {

/// Runs the crash child on `dir`, reads its acknowledgements until it has
/// printed "ready" and `extra` more, then kills it with SIGKILL.
std::vector<std::string> run_and_kill(const std::filesystem::path& dir, int extra) {
  test::child_process child{{OVERSEER_TEST_BIN_DIR "/overseer_crash_child", dir.string()}};
  std::vector<std::string> accepted;
  std::string line;
  bool ready = false;
  int after_ready = 0;
  while (child.read_line(line)) {
    if (line.starts_with("ready")) ready = true;
    else if (line.starts_with("accepted ")) {
      accepted.push_back(line.substr(9, 30));
      if (ready && ++after_ready >= extra) break;
    }
  }
  REQUIRE(child.kill9());
  REQUIRE(ready);
  return accepted;
}

}  // namespace

TEST_CASE("after kill -9 no acknowledged job is lost and interrupted jobs resume", "[recovery]") {
  test::temp_dir dir;
  auto accepted = run_and_kill(dir.path() / "data", 50);
  REQUIRE(accepted.size() >= 76);

  engine e{{.data_dir = dir.path() / "data", .max_concurrent = 4}};
  e.start();
  int interrupted = 0;
  int resumed_from_checkpoint = 0;
  for (const auto& id : accepted) {
    INFO("job " << id);
    auto v = e.wait(id, 60s);
    REQUIRE(v);  // exists, and reaches a terminal state
    CHECK(v->status == job_status::completed);
    auto h = e.history(id);
    std::optional<job_status> at;
    for (const auto& t : h) {
      REQUIRE(t.from == at);
      REQUIRE(actors::can_transition(t.from, t.to));
      at = t.to;
      if (t.reason == "interrupted") ++interrupted;
    }
    auto page = e.logs(id, log_level::info, 1000, 0);
    REQUIRE(page);
    for (const auto& l : page->lines)
      if (l.message.starts_with("resuming after step")) ++resumed_from_checkpoint;
  }
  // The three long jobs were running when the child died.
  CHECK(interrupted >= 3);
  CHECK(resumed_from_checkpoint >= 3);
}
