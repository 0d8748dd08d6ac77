// The threads tool bodies run on.
//
// Tool code blocks (it sleeps, waits for a child process, reads files), so it
// never runs on CAF's cooperative threads. It used to get an OS thread of its
// own per attempt (a detached CAF actor); at thousands of short jobs a second
// the clone/mmap/munmap of those threads was most of the engine's system
// time. This pool keeps finished threads and hands them the next attempt.
//
// It is elastic, not fixed: a task that finds no idle thread gets a new one,
// so a task never waits behind another one (a blocked tool can never starve
// the next attempt, and the scheduler's concurrency limits stay the only
// bound). A thread idle for longer than `idle_timeout` exits, so a burst of
// long jobs does not leave its threads behind for good.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace overseer::actors {

class attempt_pool {
public:
  explicit attempt_pool(std::chrono::milliseconds idle_timeout = std::chrono::seconds{60});
  /// Waits for every task that is running to return, then joins every thread.
  ~attempt_pool();
  attempt_pool(const attempt_pool&) = delete;
  attempt_pool& operator=(const attempt_pool&) = delete;

  /// Runs `task` on an idle thread, or on a new one if none is idle. The task
  /// must not throw (the attempt runner catches what tool code throws).
  void run(std::function<void()> task);

  /// Threads alive now, busy or idle.
  [[nodiscard]] std::size_t threads() const;
  /// Threads alive now and waiting for a task.
  [[nodiscard]] std::size_t idle() const;

private:
  void work();
  void join_exited(std::unique_lock<std::mutex>& lock);

  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;  ///< each one has a waiting thread or a new one
  std::size_t idle_ = 0;
  bool stopping_ = false;
  std::unordered_map<std::thread::id, std::thread> threads_;
  std::vector<std::thread::id> exited_;  ///< returned from work(), not joined yet
};

}  // namespace overseer::actors
