// Events: the durable, sequence-numbered record of what happened to jobs.
//
// Every transition, progress update and log line becomes an event with a
// global sequence number that strictly increases in commit order. An event is
// delivered to subscribers only after it is durable, and one job's events are
// delivered in the order they happened. Callbacks run on the engine's single
// dispatch thread, one at a time: keep them short, and never call blocking
// engine functions (wait, submit) from inside one.
//
//   auto sub = engine.subscribe(overseer::filter::job(id),
//                               [](const overseer::event& e) { print(e); });
//   // events flow until `sub` is destroyed or reset
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "overseer/job.hpp"

namespace overseer {

enum class event_kind : std::uint8_t { transition, progress, log };

[[nodiscard]] std::string_view to_string(event_kind k) noexcept;

struct event {
  std::uint64_t seq = 0;
  std::string job_id{};
  event_kind kind = event_kind::transition;
  time_point at{};
  // transition
  std::optional<job_status> from{};
  job_status to = job_status::pending;
  int attempt = 0;
  std::string reason{};
  // progress
  overseer::progress progress{};
  // log
  log_level level = log_level::info;
  std::string message{};
  /// Who wrote the line: "tool" (the tool's own output) or "engine" (what
  /// the engine did to the job: attempts, failures, retries, cancels).
  std::string component{};
  /// The tool and batch of the job; let subscribers filter without a look-up.
  std::string tool{};
  std::string batch_id{};
  /// The job's owner (job_spec::owner): lets a front show a principal only
  /// its own jobs' events.
  std::string owner{};
  /// The job's W3C trace id (job_spec::trace_id); empty: none.
  std::string trace_id{};
};

/// Which events a subscription receives.
struct filter {
  enum class scope : std::uint8_t { all, job, batch };
  scope what = scope::all;
  std::string id{};           ///< the job or batch id
  bool include_logs = true; ///< log events too, not only transitions/progress

  static filter job(std::string id) { return {scope::job, std::move(id), true}; }
  static filter batch(std::string id) { return {scope::batch, std::move(id), true}; }
  static filter all() { return {}; }
  [[nodiscard]] bool matches(const event& e) const noexcept;
};

/// Keeps a subscription alive; destroying or resetting it unsubscribes. After
/// reset() returns, the callback is not running and will not run again.
class subscription {
public:
  subscription() = default;
  explicit subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  subscription(subscription&& other) noexcept : cancel_(std::move(other.cancel_)) { other.cancel_ = nullptr; }
  subscription& operator=(subscription&& other) noexcept {
    if (this != &other) { reset(); cancel_ = std::move(other.cancel_); other.cancel_ = nullptr; }
    return *this;
  }
  subscription(const subscription&) = delete;
  subscription& operator=(const subscription&) = delete;
  ~subscription() { reset(); }
  void reset() {
    if (cancel_) { auto c = std::move(cancel_); cancel_ = nullptr; c(); }
  }
  explicit operator bool() const noexcept { return static_cast<bool>(cancel_); }

private:
  std::function<void()> cancel_;
};

}  // namespace overseer
