// kill -9 of an engine running an exec tool: the program's process group
// outlives the engine; the next start must kill that orphan group (it was
// recorded before the program's output was read) and re-run the job from
// its last checkpoint.
#include <csignal>
#include <cstdio>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>


#include "support/process_probe.hpp"
#include "support/engine_fixture.hpp"
#include "support/child_process.hpp"
#include "support/tools_file.hpp"
#include "tools/exec_tool.hpp"

using namespace std::chrono_literals;
using namespace overseer;

using test::eventually_gone;
using test::gone;

namespace {

// Resumes from its checkpoint if it has one; otherwise saves one, starts a
// grandchild, reports both ids and waits (silently: its stdout pipe dies
// with the engine, and a write would end it with SIGPIPE).
constexpr const char* resumable_script = R"sh(
if [ -f "$OVERSEER_CHECKPOINT_FILE" ]; then
  printf '@overseer {"progress": 100, "result": {"resumed_from": "%s", "attempt": %s}}\n' \
    "$(cat "$OVERSEER_CHECKPOINT_FILE")" "$OVERSEER_ATTEMPT"
  exit 0
fi
echo '@overseer {"progress": 40, "checkpoint": "aligned 4 of 10"}'
sleep 1000 &
echo "pids $$ $!"
wait
)sh";


struct child_report {
  std::string job_id;
  int leader = 0;
  int grandchild = 0;
};

/// Runs the exec child until it reports the job and the script's ids, then
/// kills it with SIGKILL.
child_report run_and_kill(const std::filesystem::path& data, const std::filesystem::path& tools_file) {
  test::child_process child{
    {OVERSEER_TEST_BIN_DIR "/overseer_exec_child", data.string(), tools_file.string()}};
  child_report report;
  std::string line;
  while ((report.job_id.empty() || report.grandchild == 0) && child.read_line(line)) {
    std::istringstream words{line};
    std::string word;
    words >> word;
    if (word == "accepted") words >> report.job_id;
    if (word == "ready") words >> report.leader >> report.grandchild;
  }
  REQUIRE(child.kill9());
  return report;
}

}  // namespace

TEST_CASE("after kill -9 the orphaned process group is killed and the job resumes from its checkpoint",
          "[recovery][exec]") {
  test::temp_dir dir;
  const auto tools_file = test::script_tool_file(dir.path(), "resumable", resumable_script, {{"kill_grace_s", 1}});

  const auto report = run_and_kill(dir.path() / "data", tools_file);
  REQUIRE_FALSE(report.job_id.empty());
  REQUIRE(report.grandchild > 0);
  // The engine is gone; its program and the program's child are not.
  CHECK(::getpgid(report.leader) == report.leader);
  CHECK(::getpgid(report.grandchild) == report.leader);
  CHECK_FALSE(gone(report.leader));
  CHECK_FALSE(gone(report.grandchild));

  engine e{{.data_dir = dir.path() / "data", .max_concurrent = 2}};
  tools::register_tools_file(e.tools(), tools_file);
  e.start();
  CHECK(eventually_gone(report.grandchild));
  CHECK(eventually_gone(report.leader));

  auto v = e.wait(report.job_id, 30s);
  REQUIRE(v);
  REQUIRE(v->status == job_status::completed);
  CHECK(v->attempt == 2);
  CHECK(v->attempts_counted == 1);  // the interrupted attempt does not count
  CHECK(v->result->at("resumed_from") == "aligned 4 of 10");
  CHECK(v->result->at("attempt") == 2);
  bool interrupted = false;
  for (const auto& t : e.history(report.job_id)) interrupted = interrupted || t.reason == "interrupted";
  CHECK(interrupted);
}
