// The process the workflow recovery test kills: a batch with a parallel
// limit and a dependency chain, both in the middle of their work. Prints
// "batch ID", "chain A B C", then "ready" once the batch is running.
#include <atomic>
#include <cstdio>
#include <thread>

#include "overseer/engine.hpp"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  overseer::engine engine{{.data_dir = argv[1], .max_concurrent = 4}};
  engine.start();
  std::atomic<int> running{0};
  auto sub = engine.subscribe(overseer::filter::all(), [&](const overseer::event& e) {
    if (e.kind == overseer::event_kind::transition && e.to == overseer::job_status::running && !e.batch_id.empty())
      ++running;
  });
  overseer::batch_spec batch{.name = "crash", .parallel_limit = 2};
  for (int i = 0; i < 6; ++i) batch.jobs.push_back({.tool = "sleep", .params = {{"seconds", 1.2}, {"steps", 3}}});
  auto b = engine.submit_batch(batch);
  if (b.code != overseer::errc::ok) return 3;
  std::printf("batch %s\n", b.batch_id.c_str());
  auto a = engine.submit({.tool = "sleep", .params = {{"seconds", 1}, {"steps", 2}}});
  auto bb = engine.submit({.tool = "sleep", .params = {{"seconds", 0.3}, {"steps", 1}}, .depends_on = {a}});
  auto c = engine.submit({.tool = "noop", .depends_on = {bb}});
  std::printf("chain %s %s %s\n", a.c_str(), bb.c_str(), c.c_str());
  std::fflush(stdout);
  while (running < 2) std::this_thread::yield();
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));  // until killed
}
