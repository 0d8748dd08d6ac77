// kill -9 in the middle of work: every acknowledged job must survive, the
// interrupted ones must resume (from their checkpoint) and finish, and every
// history must be a legal walk of the state machine.
#include <csignal>
#include <cstdio>
#include <set>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "actors/job_lifecycle.hpp"
#include "support/engine_fixture.hpp"

extern char** environ;

using namespace std::chrono_literals;
using namespace overseer;

namespace {

/// Runs the crash child on `dir`, reads its acknowledgements until it has
/// printed "ready" and `extra` more, then kills it with SIGKILL.
std::vector<std::string> run_and_kill(const std::filesystem::path& dir, int extra) {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::string exe = OVERSEER_TEST_BIN_DIR "/overseer_crash_child", data = dir.string();
  char* argv[] = {exe.data(), data.data(), nullptr};
  pid_t pid = 0;
  REQUIRE(::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);

  std::vector<std::string> accepted;
  FILE* in = ::fdopen(out[0], "r");
  char line[256];
  bool ready = false;
  int after_ready = 0;
  while (std::fgets(line, sizeof line, in)) {
    std::string s{line};
    if (s.starts_with("ready")) ready = true;
    else if (s.starts_with("accepted ")) {
      accepted.push_back(s.substr(9, 30));
      if (ready && ++after_ready >= extra) break;
    }
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::fclose(in);
  REQUIRE(ready);
  REQUIRE(WIFSIGNALED(status));
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
    for (const auto& l : e.logs(id, log_level::info, 1000, 0))
      if (l.message.starts_with("resuming after step")) ++resumed_from_checkpoint;
  }
  // The three long jobs were running when the child died.
  CHECK(interrupted >= 3);
  CHECK(resumed_from_checkpoint >= 3);
}
