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
//
// A task goes straight to one idle thread: run() takes the thread that went
// idle last (its caches are warm) and hands it the task through a word of
// its own, which the thread sleeps on (a futex). Not through a shared queue
// and condition variable: glibc's condition variable made each hand-off two
// more futex calls (the signaller waiting for the woken thread to leave the
// old wait group, the woken thread waking it), on the scheduler's turn and
// on the tool thread, at one hand-off per job (docs/performance.md).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
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
  /// One thread's hand-off: run() fills `task` (nothing: stop), then sets
  /// `handed` to 1 and wakes the thread, which sleeps on it.
  struct worker {
    std::function<void()> task;
    std::atomic<std::uint32_t> handed{0};
  };
  void work(std::shared_ptr<worker> self, std::function<void()> task);
  static void hand(worker& w);
  /// Sleeps until `w` is handed something, or for at most `timeout` (none:
  /// no limit); whether it was handed something.
  static bool wait_handed(worker& w, std::optional<std::chrono::milliseconds> timeout);
  void join_exited(std::unique_lock<std::mutex>& lock);

  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<worker>> idle_;  ///< waiting for a task; the last went idle last
  bool stopping_ = false;
  std::unordered_map<std::thread::id, std::thread> threads_;
  std::vector<std::thread::id> exited_;  ///< returned from work(), not joined yet
};

}  // namespace overseer::actors
