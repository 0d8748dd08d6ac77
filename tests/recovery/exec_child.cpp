// The process the exec recovery test kills: runs an engine on DATA_DIR with
// the exec tools of TOOLS_FILE, submits one job of the tool "resumable",
// prints "accepted <id>", then "ready <pgid> <grandchild pid>" once the
// script has saved its checkpoint and reported its process ids (its log line
// comes after the checkpoint, which is durable before the line is read).
// The parent kills it with SIGKILL after "ready".
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "overseer/engine.hpp"
#include "tools/exec_tool.hpp"

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  overseer::engine engine{{.data_dir = argv[1], .max_concurrent = 2}};
  overseer::tools::register_tools_file(engine.tools(), argv[2]);
  engine.start();
  std::mutex out;
  auto sub = engine.subscribe(overseer::filter::all(), [&](const overseer::event& e) {
    if (e.kind != overseer::event_kind::log || !e.message.starts_with("pids ")) return;
    std::lock_guard lock{out};
    std::printf("ready %s\n", e.message.substr(5).c_str());
    std::fflush(stdout);
  });
  const auto id = engine.submit({.tool = "resumable"});
  {
    std::lock_guard lock{out};
    std::printf("accepted %s\n", id.c_str());
    std::fflush(stdout);
  }
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}
