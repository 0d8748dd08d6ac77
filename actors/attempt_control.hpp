// Shared between a job actor and one running attempt of its job: the
// cooperative stop flag the tool polls, a wake-up for tools sleeping on it,
// a hook that relays a stop to a worker node, and whether the attempt
// recorded an external process group (so the process record is erased once
// the tool body returns).
#pragma once

#include <algorithm>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace overseer::actors {

class attempt_control {
public:
  void request_stop() {
    std::function<void()> hook;
    {
      std::lock_guard lock{mutex_};
      if (!stop_) hook = std::move(on_stop_);
      stop_ = true;
    }
    cv_.notify_all();
    if (hook) hook();
  }
  /// Runs `hook` once, at the first stop request (at once if one came
  /// already): an attempt on a worker node relays the stop there.
  void on_stop(std::function<void()> hook) {
    {
      std::lock_guard lock{mutex_};
      if (!stop_) {
        on_stop_ = std::move(hook);
        return;
      }
    }
    hook();
  }
  [[nodiscard]] bool stop_requested() const noexcept { return stop_.load(); }
  /// Sleeps up to `d` or until a stop is requested; returns stop_requested().
  bool sleep_for(std::chrono::milliseconds d) {
    // At most a century: a longer one (milliseconds::max()) would overflow
    // the clock's arithmetic and not sleep at all.
    d = std::min<std::chrono::milliseconds>(d, std::chrono::hours{24 * 365 * 100});
    std::unique_lock lock{mutex_};
    cv_.wait_for(lock, d, [this] { return stop_.load(); });
    return stop_;
  }
  void process_recorded() noexcept { process_ = true; }
  [[nodiscard]] bool has_process() const noexcept { return process_.load(); }

private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> process_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> on_stop_;
};

}  // namespace overseer::actors
