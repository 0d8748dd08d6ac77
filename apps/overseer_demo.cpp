// overseer_demo: embeds the engine, submits a few demo jobs and prints their
// transitions, progress and logs live until every one has finished.
//
//   overseer_demo [DATA_DIR]
#include <cstdio>
#include <iostream>
#include <mutex>

#include <boost/json/serialize.hpp>

#include "overseer/engine.hpp"

namespace {

std::string describe(const overseer::event& e) {
  using overseer::event_kind;
  std::string s{"#"};
  s += std::to_string(e.seq) + " " + e.job_id.substr(0, 12) + "… " + e.tool + ": ";
  switch (e.kind) {
    case event_kind::transition:
      s += std::string{e.from ? overseer::to_string(*e.from) : "(new)"} + " -> " +
           std::string{overseer::to_string(e.to)} + " (attempt " + std::to_string(e.attempt) +
           (e.reason.empty() ? "" : ", " + e.reason) + ")";
      break;
    case event_kind::progress:
      s += "progress " + std::to_string(static_cast<int>(e.progress.percent)) + "% " + e.progress.step_name;
      break;
    case event_kind::log:
      s += "log [" + std::string{overseer::to_string(e.level)} + "] " + e.message;
      break;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  overseer::engine_config cfg;
  cfg.data_dir = argc > 1 ? argv[1] : "overseer-data";
  overseer::engine engine{cfg};
  // A tool of the host program's own, beside the built-in ones.
  engine.tools().add({.name = "align", .description = "pretend to align reads"},
                     [](overseer::job_context& ctx) -> overseer::tool_result {
                       for (int step = 1; step <= 3; ++step) {
                         if (ctx.sleep_for(std::chrono::milliseconds(300))) return overseer::stopped();
                         ctx.progress({.percent = step * 33.3, .current_step = step, .total_steps = 3,
                                       .step_name = "chunk " + std::to_string(step)});
                       }
                       return boost::json::object{{"hits", 42}};
                     });
  engine.start();
  std::mutex out;
  auto sub = engine.subscribe(overseer::filter::all(), [&](const overseer::event& e) {
    std::lock_guard lock{out};
    std::cout << describe(e) << std::endl;
  });
  std::vector<std::string> ids;
  ids.push_back(engine.submit({.tool = "sleep", .params = {{"seconds", 2}, {"steps", 4}}}));
  ids.push_back(engine.submit({.tool = "fail", .params = {{"failures", 2}},
                               .retry = overseer::retry_policy{.max_attempts = 3,
                                                               .initial_backoff = std::chrono::milliseconds(200)}}));
  ids.push_back(engine.submit({.tool = "align", .priority = 9}));
  ids.push_back(engine.submit({.tool = "noop"}));
  for (const auto& id : ids) {
    auto v = engine.wait(id, std::chrono::seconds(60));
    std::lock_guard lock{out};
    std::cout << "== " << id << " " << (v ? std::string{overseer::to_string(v->status)} : v.message())
              << (v && v->result ? " result " + boost::json::serialize(*v->result) : "") << std::endl;
  }
  return 0;
}
