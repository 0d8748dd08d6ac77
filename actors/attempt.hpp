// One attempt of a job: the tool body, run on a thread of the attempt pool
// (actors/attempt_pool.hpp), so blocking tool code never runs on CAF's
// cooperative threads. Its job actor (actors/job_actor.hpp) starts it and
// decides what any of it means; the scheduler counts the slot it holds
// until the attempt_exited its pool task sends last.
//
// It relays progress (coalesced: latest wins, at most one per interval, the
// last always sent), log lines and checkpoints to the job actor, and returns
// the result, which its pool task reports (attempt_exited). A body that throws is a crashed
// attempt carrying the exception's message. A message from an attempt that
// is no longer current is dropped by the job actor.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "overseer/tool.hpp"

namespace overseer::actors {

/// Where an attempt's reports go when its job actor is on another node: a
/// worker node relays them to the scheduler node (actors/worker_node.cpp).
class attempt_sink {
public:
  virtual ~attempt_sink() = default;
  virtual void progress(int attempt, overseer::progress p) = 0;
  virtual void log(int attempt, log_level level, std::string message) = 0;
  /// Called before each log(), outside the attempt's lock: blocks while too
  /// many lines sent are not yet written on the scheduler node.
  virtual void wait_for_log_room(int attempt) = 0;
  /// Block until the scheduler node says whether it is durable.
  virtual bool checkpoint(int attempt, std::string bytes) = 0;
  virtual bool record_process(int attempt, int process_group, std::uint64_t start_time) = 0;
};

/// An attempt's working directory: <work_root>/<job_id>/<attempt>.
inline std::filesystem::path attempt_workdir(const std::filesystem::path& work_root, const std::string& job_id,
                                             int attempt) {
  return work_root / job_id / std::to_string(attempt);
}

struct attempt_args {
  job_actor job;  ///< where reports go, unless `sink` is set
  std::shared_ptr<const tool_registry::entry> tool;
  std::string job_id;
  int attempt = 0;
  boost::json::object params;
  std::optional<std::string> checkpoint;
  std::shared_ptr<attempt_control> control;
  std::chrono::milliseconds progress_interval{200};
  /// The attempt's working directory is <work_root>/<job_id>/<attempt>,
  /// made only when the body asks for it (workdir()): most never do, and
  /// the path built for every attempt cost the scheduler's turn about
  /// 1.6 µs per job (docs/performance.md).
  std::shared_ptr<const std::filesystem::path> work_root;
  std::string trace_id{};         ///< the job's W3C trace id; empty: none
  /// After a body that returned a value: stores the tool's declared output
  /// files and adds them to the result (actors/file_service.hpp); none for
  /// a tool without outputs. Runs on the pool thread; may block.
  std::function<tool_result(tool_result)> collect_outputs{};
  /// Set on a worker node: reports go here instead of to `job`.
  std::shared_ptr<attempt_sink> sink{};

  [[nodiscard]] std::filesystem::path workdir() const { return attempt_workdir(*work_root, job_id, attempt); }
};

/// How an attempt ended: its result, and whether it sent its job actor
/// progress or log lines on the way (then the result must follow them on
/// the same path, see attempt_exited).
struct attempt_end {
  tool_result result;
  bool told_job = false;
};

/// The engine (its live-attempt counter) whose tool body this thread runs
/// now, or null: engine::stop refuses to run in its own engine's body,
/// which it would wait for.
[[nodiscard]] const void* tool_body_engine() noexcept;

/// Marks this thread as running a body of `engine` while it lives.
class tool_body_scope {
public:
  explicit tool_body_scope(const void* engine) noexcept;
  ~tool_body_scope();
  tool_body_scope(const tool_body_scope&) = delete;
  tool_body_scope& operator=(const tool_body_scope&) = delete;

private:
  const void* outer_;
};

/// Runs the tool body; progress, log lines and checkpoints go to args.job,
/// the result is returned. Never throws.
[[nodiscard]] attempt_end run_attempt(attempt_args& args);

}  // namespace overseer::actors
