// The README's embedding example, against the installed headers only: runs a
// sleep job to completion and checks that its transitions and progress
// arrived live. Exit status 0 on success.
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <overseer/engine.hpp>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  overseer::engine_config cfg;
  cfg.data_dir = argv[1];
  overseer::engine engine{cfg};
  engine.tools().add({.name = "align", .timeout = std::chrono::hours(2), .retry = {.max_attempts = 3}},
                     [](overseer::job_context& ctx) -> overseer::tool_result {
                       ctx.progress({.percent = 10, .step_name = "index"});
                       if (ctx.stop_requested()) return overseer::stopped();
                       return boost::json::object{{"hits", 42}};
                     });
  engine.start();
  // Subscribed before the submit: a job's filter needs its id, and by the
  // time a subscription made after submit() starts, the job may be running
  // already (CI's busy machine showed that).
  std::mutex m;
  std::map<std::string, std::set<std::string>> transitions;
  std::map<std::string, int> progress_of;
  auto sub = engine.subscribe(overseer::filter::all(), [&](const overseer::event& e) {
    std::lock_guard lock{m};
    if (e.kind == overseer::event_kind::transition) transitions[e.job_id].insert(std::string{overseer::to_string(e.to)});
    if (e.kind == overseer::event_kind::progress) ++progress_of[e.job_id];
  });
  auto id = engine.submit({.tool = "sleep", .params = {{"seconds", 0.5}, {"steps", 2}}});
  auto view = engine.wait(id, std::chrono::seconds(30));
  auto align = engine.wait(engine.submit({.tool = "align", .params = {{"ref", "hg38"}}}), std::chrono::seconds(30));
  std::lock_guard lock{m};
  const auto& seen = transitions[id];
  const int progress = progress_of[id];
  const bool ok = view && view->status == overseer::job_status::completed && seen.count("running") &&
                  seen.count("completed") && progress >= 1 && align && align->result &&
                  align->result->at("hits").as_int64() == 42;
  std::printf("sleep %s, transitions seen %zu, progress events %d, align %s\n",
              view ? std::string{overseer::to_string(view->status)}.c_str() : "none", seen.size(), progress,
              align ? std::string{overseer::to_string(align->status)}.c_str() : "none");
  return ok ? 0 : 1;
}
