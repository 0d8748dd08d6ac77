// Shared between a job actor and one running attempt of its job: the
// cooperative stop flag the tool polls, a wake-up for tools sleeping on it,
// and whether the attempt recorded an external process group (so the
// process record is erased once the tool body returns).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace overseer::actors {

class attempt_control {
public:
  void request_stop() {
    {
      std::lock_guard lock{mutex_};
      stop_ = true;
    }
    cv_.notify_all();
  }
  [[nodiscard]] bool stop_requested() const noexcept { return stop_.load(); }
  /// Sleeps up to `d` or until a stop is requested; returns stop_requested().
  bool sleep_for(std::chrono::milliseconds d) {
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
};

}  // namespace overseer::actors
