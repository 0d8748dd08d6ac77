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
#include <cstddef>
#include <functional>
#include <mutex>

namespace overseer::actors {

class attempt_control {
public:
  /// A tool's log lines not yet durable, at most: the lines and their
  /// bytes. A tool that prints faster than the store writes waits in
  /// log() (its pipe fills, its program blocks on write), so a flood of
  /// short lines holds neither the daemon's memory nor the job actor's
  /// mailbox, where a cancel would queue behind it.
  static constexpr std::size_t max_unwritten_lines = 1024;
  static constexpr std::size_t max_unwritten_bytes = std::size_t{1} << 20;
  /// The longest log() waits for the store: a line whose credit never
  /// comes back (its job actor died with it) holds the tool up this long.
  static constexpr std::chrono::seconds max_log_wait{10};

  void request_stop() {
    std::function<void()> hook;
    {
      std::lock_guard lock{mutex_};
      if (!stop_) hook = std::move(on_stop_);
      stop_ = true;
    }
    cv_.notify_all();
    {
      std::lock_guard lock{credit_mutex_};  // a log() between its check and its wait hears it
    }
    credit_cv_.notify_all();
    if (hook) hook();
  }
  /// Takes the credit for a log line of `bytes`, waiting while the bounds
  /// are reached (never for the first line in flight, however long). False:
  /// a stop was requested while they are reached, and the line is dropped
  /// (a tool still printing after it was told to stop adds nothing to
  /// memory). After max_log_wait the credit is taken anyway.
  bool take_line(std::size_t bytes) {
    std::unique_lock lock{credit_mutex_};
    const auto full = [&] {
      return unwritten_lines_ >= max_unwritten_lines ||
             (unwritten_lines_ > 0 && unwritten_bytes_ + bytes > max_unwritten_bytes);
    };
    if (full()) {
      ++log_waits_;
      credit_cv_.wait_for(lock, max_log_wait, [&] { return !full() || stop_.load(); });
      if (full() && stop_) return false;
    }
    ++unwritten_lines_;
    unwritten_bytes_ += bytes;
    return true;
  }
  /// The line of `bytes` is durable, or was dropped by the job actor.
  void give_back_line(std::size_t bytes) {
    {
      std::lock_guard lock{credit_mutex_};
      unwritten_lines_ -= std::min<std::size_t>(unwritten_lines_, 1);
      unwritten_bytes_ -= std::min(unwritten_bytes_, bytes);
    }
    credit_cv_.notify_all();
  }
  /// How often log() had to wait for the store (tests).
  [[nodiscard]] std::size_t log_waits() {
    std::lock_guard lock{credit_mutex_};
    return log_waits_;
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
  std::mutex credit_mutex_;
  std::condition_variable credit_cv_;
  std::size_t unwritten_lines_ = 0;
  std::size_t unwritten_bytes_ = 0;
  std::size_t log_waits_ = 0;
};

}  // namespace overseer::actors
