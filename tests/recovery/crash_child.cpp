// The process the crash test kills: runs an engine on DATA_DIR, submits
// jobs, and prints "accepted <id>" for each one the engine acknowledged
// (after it was durable), then "ready" once long jobs are running and have
// saved a checkpoint. The parent kills it with SIGKILL at any point.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "overseer/engine.hpp"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  overseer::engine_config cfg;
  cfg.data_dir = argv[1];
  cfg.max_concurrent = 4;
  overseer::engine engine{cfg};
  engine.start();
  std::atomic<int> checkpointed{0};
  auto sub = engine.subscribe(overseer::filter::all(), [&](const overseer::event& e) {
    // The sleep tool checkpoints after each step; progress follows it.
    if (e.kind == overseer::event_kind::progress && e.progress.current_step >= 2) ++checkpointed;
  });
  auto accept = [](const std::string& id) {
    std::printf("accepted %s\n", id.c_str());
    std::fflush(stdout);
  };
  // Long jobs that will be interrupted mid-run, after saving checkpoints.
  for (int i = 0; i < 3; ++i)
    accept(engine.submit({.tool = "sleep", .params = {{"seconds", 4}, {"steps", 20}}}));
  // Jobs that queue behind them, some of them retrying.
  for (int i = 0; i < 20; ++i) accept(engine.submit({.tool = "noop", .priority = 1}));
  for (int i = 0; i < 3; ++i)
    accept(engine.submit({.tool = "fail", .params = {{"failures", 1}}, .priority = 1,
                          .retry = overseer::retry_policy{.max_attempts = 2,
                                                          .initial_backoff = std::chrono::milliseconds(100)}}));
  while (checkpointed < 3) std::this_thread::yield();
  std::printf("ready\n");
  std::fflush(stdout);
  // Keep submitting until killed: the kill lands in the middle of this.
  for (;;) accept(engine.submit({.tool = "noop"}));
}
