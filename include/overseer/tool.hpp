// Tools: named units of work, and the context a running tool talks through.
//
// A tool body is ordinary blocking C++ code. It runs on a thread of the
// engine's attempt pool, never on the actor scheduler, so it may sleep, read
// files or wait on a process, and may call any engine function, the
// blocking ones included (submit a sub-job, wait for it): but bound every
// wait and check stop_requested(), since stop() waits for every body to
// return. It reports through its job_context; progress is coalesced at the
// source (latest wins, a few per second; one held back goes out at the next
// call into the context, stop_requested() included, once its interval has
// passed) and the last one before the body returns is always kept. A body
// that throws fails the attempt with the exception's message. Registering is
// thread-safe; register before start() so that recovered jobs find their
// tools.
//
//   engine.tools().add({.name = "align", .retry = {.max_attempts = 3}},
//     [](overseer::job_context& ctx) -> overseer::tool_result {
//       ctx.progress({.percent = 10, .step_name = "index"});
//       if (ctx.stop_requested()) return overseer::stopped();
//       return boost::json::object{{"hits", 42}};
//     });
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "overseer/errc.hpp"
#include "overseer/job.hpp"
#include "overseer/retry_policy.hpp"
#include "overseer/supervision.hpp"

namespace overseer {

/// How a tool's jobs are run. An immediate tool is fast (seconds): its jobs
/// take slots of a small pool of their own (engine_config::
/// immediate_concurrent), so they never wait behind long jobs, and the HTTP
/// front answers their submit synchronously (docs/api.md, "Synchronous runs").
enum class tool_mode : std::uint8_t { queued, immediate };
[[nodiscard]] std::string_view to_string(tool_mode m) noexcept;

/// What a tool declares about itself.
struct tool_definition {
  std::string name{};
  std::string version = "1";
  std::string description{};
  /// Parameter schema: {"NAME": {"type": "string"|"integer"|"number"|
  /// "boolean"|"object"|"array"|"file", "required": bool, "default": v, "minimum": n,
  /// "maximum": n, "enum": [...], "pattern": "regex", "absolute_path": bool,
  /// "description": "..."}}. A pattern is an RE2 expression (no
  /// backreferences, no lookaround) that must match the whole value. A
  /// "file" param takes a stored file's id (engine::add_file, POST
  /// /v1/files); the body sees the read-only path of the file instead.
  /// Params not named here are refused, unless the schema is empty and
  /// strict_params is false: such a tool takes free-form params.
  boost::json::object params{};
  /// Default per-attempt timeout; a spec's timeout_s overrides it.
  std::optional<std::chrono::seconds> timeout{};
  /// Default retry policy; a spec's retry overrides it.
  retry_policy retry{};
  /// How many jobs of this tool may run at once; 0 means only the global limit.
  int max_concurrent = 0;
  /// queued (the default) or immediate.
  tool_mode mode = tool_mode::queued;
  /// Refuse undeclared params even when `params` declares none. Default
  /// false; the built-in and exec tools set it.
  bool strict_params = false;
  /// This tool's restart intensity; none: the engine's (engine_config::
  /// max_failures, failure_window, intensity).
  std::optional<supervision_strategy> supervision{};
  /// Files the tool leaves in its attempt's workdir that become stored
  /// files after a completed attempt: names or globs ('*', '?' within a
  /// path segment), relative, never leaving the workdir (no "..", not
  /// absolute; symbolic links are not followed). They are listed in the
  /// result as "files": [{name, file_id, size, sha256}] (a result that is
  /// not an object becomes {"value": result, "files": [...]}), belong to
  /// the job's owner and are deleted with the job by retention.
  std::vector<std::string> outputs{};
};

/// The running tool's line to the engine. Valid during the body's call
/// only; thread-safe, so threads the body starts may use it until the body
/// returns. checkpoint() and record_process() block the caller until the
/// bytes are durable; the rest return at once.
class job_context {
public:
  virtual ~job_context() = default;
  [[nodiscard]] virtual const std::string& job_id() const noexcept = 0;
  [[nodiscard]] virtual int attempt() const noexcept = 0;
  /// The job's W3C trace id (job_spec::trace_id); empty when it has none.
  [[nodiscard]] virtual const std::string& trace_id() const noexcept {
    static const std::string none;
    return none;
  }
  /// The validated params, defaults filled in.
  [[nodiscard]] virtual const boost::json::object& params() const noexcept = 0;
  /// Reports progress; cheap to call often (coalesced). A percent outside
  /// 0-100 is clamped (NaN counts as 0), negative steps as 0, and an
  /// estimated_completion outside 1970-9999 is dropped.
  virtual void progress(const overseer::progress& p) = 0;
  virtual void log(log_level level, std::string_view message) = 0;
  /// Saves opaque bytes; returns once they are durable. After a crash the
  /// next attempt finds them in last_checkpoint().
  virtual void checkpoint(std::string bytes) = 0;
  [[nodiscard]] virtual std::optional<std::string> last_checkpoint() const = 0;
  /// True once the job was cancelled or timed out: return soon.
  [[nodiscard]] virtual bool stop_requested() const noexcept = 0;
  /// Sleeps up to `d`, waking early when a stop is requested. Returns
  /// stop_requested().
  virtual bool sleep_for(std::chrono::milliseconds d) = 0;
  /// This attempt's own working directory (DATA_DIR/work/JOB_ID/ATTEMPT),
  /// created on first call.
  [[nodiscard]] virtual std::filesystem::path workdir() = 0;
  /// Records the process group an external tool started and its leader's
  /// start time (clock ticks since boot, /proc/PID/stat field 22); returns
  /// once durable. After a crash the engine kills that group before the job
  /// runs again, if a process with that id and start time still exists.
  virtual void record_process(int process_group, std::uint64_t start_time) = 0;
};

/// What a tool body returns: a JSON result, a failure, a crash, or
/// "stopped". In a result, strings that are not valid UTF-8 are repaired
/// (U+FFFD) and numbers JSON cannot write (NaN, the infinities) become null.
///
/// A failure is the job's problem: the tool refused or could not process
/// its input (bad params, a missing file, a non-zero exit). A crash is the
/// tool's: it broke (an exception escaped the body, the program was killed
/// by a signal). Both end the attempt the same way and are retried by the
/// job's retry policy, but only crashes (and timeouts) count toward the
/// tool's restart intensity by default (engine_config::intensity_counts),
/// so that jobs with bad input cannot pause a tool for everyone.
class tool_result {
public:
  enum class kind : std::uint8_t { value, failure, stopped, crashed };
  tool_result(boost::json::value v) : kind_(kind::value), value_(std::move(v)) {}
  tool_result(boost::json::object o) : kind_(kind::value), value_(std::move(o)) {}
  static tool_result failure(std::string message) {
    tool_result r{boost::json::value{}};
    r.kind_ = kind::failure;
    r.message_ = std::move(message);
    return r;
  }
  /// The tool broke: `message` says how (the exception, the signal).
  static tool_result crashed(std::string message) {
    tool_result r{boost::json::value{}};
    r.kind_ = kind::crashed;
    r.message_ = std::move(message);
    return r;
  }
  /// Stopped as asked; `how` (optional) says how, e.g. that the process
  /// group had to be killed, and goes into the job's log.
  static tool_result stopped(std::string how = {}) {
    tool_result r{boost::json::value{}};
    r.kind_ = kind::stopped;
    r.message_ = std::move(how);
    return r;
  }
  [[nodiscard]] kind what() const noexcept { return kind_; }
  [[nodiscard]] const boost::json::value& value() const noexcept { return value_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }

private:
  kind kind_;
  boost::json::value value_;
  std::string message_;
};

[[nodiscard]] inline tool_result stopped(std::string how = {}) { return tool_result::stopped(std::move(how)); }
[[nodiscard]] inline tool_result failure(std::string message) {
  return tool_result::failure(std::move(message));
}

using tool_function = std::function<tool_result(job_context&)>;

/// The registered tools of one engine.
class tool_registry {
public:
  struct entry {
    tool_definition definition{};
    tool_function body{};
  };
  tool_registry();
  ~tool_registry();
  tool_registry(const tool_registry&) = delete;
  tool_registry& operator=(const tool_registry&) = delete;

  /// Registers a tool. Throws overseer::error (invalid_spec) for an empty or
  /// duplicate name, a malformed parameter schema or a negative limit.
  void add(tool_definition definition, tool_function body);
  [[nodiscard]] std::shared_ptr<const entry> find(std::string_view name) const;
  [[nodiscard]] std::vector<tool_definition> list() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace overseer
