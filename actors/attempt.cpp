#include "actors/attempt.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "actors/await_callback.hpp"
#include "tools/utf8.hpp"

namespace overseer::actors {

namespace {

// Every string a tool hands over is made valid UTF-8 here, before it is
// stored or sent: logs, progress and results go out as JSON text (HTTP
// bodies, WebSocket text frames), which must be UTF-8. Numbers JSON cannot
// write (NaN, the infinities) are made null in results and bounded in
// progress. Checkpoints are opaque bytes that only the tool reads back, and
// stay as they are.
std::string clean(std::string_view s) { return tools::valid_utf8(s) ? std::string{s} : tools::sanitize_utf8(s); }

bool valid(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return tools::valid_utf8(v.get_string());
    case boost::json::kind::double_: return std::isfinite(v.get_double());
    case boost::json::kind::array:
      for (const auto& e : v.get_array())
        if (!valid(e)) return false;
      return true;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object())
        if (!tools::valid_utf8(kv.key()) || !valid(kv.value())) return false;
      return true;
    default: return true;
  }
}

void sanitize(boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      // NaN and the infinities (a tool's arithmetic; Boost.JSON reads 1e400
      // as infinity) have no JSON text: stored as written they would not
      // read back, and the result would be lost. They become null.
      if (!std::isfinite(v.get_double())) v = nullptr;
      break;
    case boost::json::kind::string: {
      auto& s = v.get_string();
      if (!tools::valid_utf8(s)) s = tools::sanitize_utf8(s);
      break;
    }
    case boost::json::kind::array:
      for (auto& e : v.get_array()) sanitize(e);
      break;
    case boost::json::kind::object: {
      auto& o = v.get_object();
      bool bad_key = false;
      for (auto& kv : o) {
        sanitize(kv.value());
        bad_key = bad_key || !tools::valid_utf8(kv.key());
      }
      if (bad_key) {
        // Keys cannot be changed in place; two keys that differ only in
        // their invalid bytes become one, the last winning, as in a parse.
        boost::json::object fixed;
        for (auto& kv : o) fixed[tools::sanitize_utf8(kv.key())] = std::move(kv.value());
        o = std::move(fixed);
      }
      break;
    }
    default:
      break;
  }
}

tool_result sanitize(tool_result r) {
  switch (r.what()) {
    case tool_result::kind::value: {
      if (valid(r.value())) return r;
      auto v = r.value();
      sanitize(v);
      return v;
    }
    case tool_result::kind::failure:
      return tools::valid_utf8(r.message()) ? r : tool_result::failure(tools::sanitize_utf8(r.message()));
    case tool_result::kind::crashed:
      return tools::valid_utf8(r.message()) ? r : tool_result::crashed(tools::sanitize_utf8(r.message()));
    case tool_result::kind::stopped:
      return r;
  }
  return r;
}

class context final : public job_context {
public:
  explicit context(attempt_args& args) : args_(args) {}

  const std::string& job_id() const noexcept override { return args_.job_id; }
  int attempt() const noexcept override { return args_.attempt; }
  const std::string& trace_id() const noexcept override { return args_.trace_id; }
  const boost::json::object& params() const noexcept override { return args_.params; }

  void progress(const overseer::progress& p) override {
    std::lock_guard lock{mutex_};
    pending_ = p;
    tools::sanitize_utf8_in_place(pending_->step_name);
    // A percent is 0 to 100 (job.hpp); NaN is no progress.
    pending_->percent = std::isnan(p.percent) ? 0.0 : std::clamp(p.percent, 0.0, 100.0);
    pending_->current_step = std::max(0, p.current_step);
    pending_->total_steps = std::max(0, p.total_steps);
    // An estimate is a time a timestamp can name: 1970 to the end of 9999.
    if (const auto& eta = p.estimated_completion;
        eta && (eta->time_since_epoch() < time_point::duration::zero() ||
                std::chrono::duration_cast<std::chrono::seconds>(eta->time_since_epoch()) >
                  std::chrono::seconds{253402300799}))
      pending_->estimated_completion.reset();
    maybe_flush(false);
  }

  void log(log_level level, std::string_view message) override {
    auto text = clean(message);
    // Outside the lock: a wait for the store holds up no other call.
    if (args_.sink) args_.sink->wait_for_log_room(args_.attempt);
    else if (!args_.control->take_line(text.size())) return;
    std::lock_guard lock{mutex_};
    // Progress reported before this line is sent first, keeping job order.
    maybe_flush(false);
    if (args_.sink) args_.sink->log(args_.attempt, level, std::move(text));
    else caf::anon_send(args_.job, log_reported{args_.attempt, level, std::move(text), args_.control});
    told_job_ = true;
  }

  void checkpoint(std::string bytes) override {
    {
      std::lock_guard lock{mutex_};
      maybe_flush(true);
    }
    const bool durable = args_.sink ? args_.sink->checkpoint(args_.attempt, bytes) : until_durable([&](auto done) {
      return save_checkpoint{args_.attempt, bytes, std::move(done)};
    });
    if (durable) {
      std::lock_guard lock{mutex_};
      last_checkpoint_ = std::move(bytes);
    }
  }

  std::filesystem::path workdir() override {
    auto dir = args_.workdir();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
    return dir;
  }

  void record_process(int process_group, std::uint64_t start_time) override {
    const bool durable = args_.sink ? args_.sink->record_process(args_.attempt, process_group, start_time)
                                    : until_durable([&](auto done) {
                                        return actors::record_process{args_.attempt, process_group, start_time,
                                                                      std::move(done)};
                                      });
    if (!durable) throw std::runtime_error("the process record could not be made durable");
    args_.control->process_recorded();
  }

  std::optional<std::string> last_checkpoint() const override {
    std::lock_guard lock{mutex_};
    return last_checkpoint_;
  }

  bool stop_requested() const noexcept override {
    flush_held();
    return args_.control->stop_requested();
  }

  bool sleep_for(std::chrono::milliseconds d) override {
    const bool stop = args_.control->sleep_for(d);
    std::lock_guard lock{mutex_};
    maybe_flush(false);
    return stop;
  }

  /// The last progress before the result is always sent. Returns whether
  /// any progress or log line was sent to the job actor.
  bool finish() {
    std::lock_guard lock{mutex_};
    maybe_flush(true);
    return told_job_;
  }

private:
  /// Sends the message `make(done)` builds and blocks until the job actor
  /// says whether it is durable. If it is dropped (the job actor is gone or
  /// stopping), the callback dies uncalled and the broken promise reads as
  /// "not durable".
  template <class Make>
  bool until_durable(Make make) {
    return await_callback<bool>([&](auto done) { caf::anon_send(args_.job, make(std::move(done))); }, false);
  }

  /// A coalesced update held back by the interval goes out at the next call
  /// into the context once the interval has passed, stop_requested()
  /// included: a tool that works quietly but polls for a stop (an exec
  /// tool's supervisor does, at least every 100 ms) never holds its latest
  /// progress back for long.
  void flush_held() const noexcept {
    try {
      std::lock_guard lock{mutex_};
      maybe_flush(false);
    } catch (...) {
      // Sending failed (memory): the update waits for the next call or the end.
    }
  }

  void maybe_flush(bool force) const {
    if (!pending_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_sent_ < args_.progress_interval) return;
    if (args_.sink) args_.sink->progress(args_.attempt, std::move(*pending_));
    else caf::anon_send(args_.job, progress_reported{args_.attempt, std::move(*pending_)});
    told_job_ = true;
    pending_.reset();
    last_sent_ = now;
  }

  attempt_args& args_;
  mutable std::mutex mutex_;
  // Mutable: stop_requested(), const, sends a held update.
  mutable std::optional<overseer::progress> pending_;
  mutable bool told_job_ = false;  ///< progress or a log line was sent (fire and forget)
  mutable std::chrono::steady_clock::time_point last_sent_{};
  std::optional<std::string> last_checkpoint_ = args_.checkpoint;
};

}  // namespace

namespace {
thread_local const void* body_engine = nullptr;
}  // namespace

const void* tool_body_engine() noexcept { return body_engine; }

tool_body_scope::tool_body_scope(const void* engine) noexcept : outer_(std::exchange(body_engine, engine)) {}
tool_body_scope::~tool_body_scope() { body_engine = outer_; }

attempt_end run_attempt(attempt_args& args) {
  context ctx{args};
  auto result = [&]() -> tool_result {
    // Tool code is foreign: whatever it throws ends this attempt, not the engine.
    try {
      return args.tool->body(ctx);
    } catch (const std::exception& e) {
      return tool_result::crashed(std::string{"tool threw: "} + e.what());
    } catch (...) {
      return tool_result::crashed("tool threw a non-standard exception");
    }
  }();
  if (result.what() == tool_result::kind::value && args.collect_outputs) {
    try {
      result = args.collect_outputs(std::move(result));
    } catch (const std::exception& e) {
      result = tool_result::failure(std::string{"the output files could not be stored: "} + e.what());
    }
  }
  const bool told_job = ctx.finish();
  return {sanitize(std::move(result)), told_job};
}

}  // namespace overseer::actors
